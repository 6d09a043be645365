import { allowListSchema, secret } from '@infra-mcp/core';
import { z } from 'zod';

/** Options of one AWS account/region (or a local endpoint): S3 and DynamoDB, read-only unless `writes` is set. */
export const awsConfig = z.object({
  region: z.string().default('us-east-1').describe('AWS region (from config only, never a tool argument)'),
  endpoints: z
    .object({
      s3: z.string().url().optional().describe('S3 endpoint override (MinIO, LocalStack, s3rver)'),
      dynamodb: z.string().url().optional().describe('DynamoDB endpoint override (DynamoDB Local, dynalite)'),
    })
    .strict()
    .default({}),
  s3ForcePathStyle: z
    .boolean()
    .default(false)
    .describe('Path-style S3 addressing (needed by most local endpoints)'),
  profile: z.string().optional().describe('Shared config profile (default credential chain otherwise)'),
  credentials: z
    .object({
      accessKeyId: z.string(),
      secretAccessKey: secret(z.string()),
      sessionToken: secret(z.string().optional()),
    })
    .strict()
    .optional()
    .describe('Static credentials (else the default provider chain via @aws-sdk/credential-providers)'),
  maxGetBytes: z.number().int().positive().default(262_144).describe('Most bytes of an object s3_get reads'),
  timeoutMs: z.number().int().positive().default(30_000),
  allow: allowListSchema({ bucket: 'S3 buckets tools may read', table: 'DynamoDB tables tools may read' }),
  writes: z
    .object({
      bucket: z.array(z.string()).optional().describe('Buckets the write tools may change (globs)'),
      table: z.array(z.string()).optional().describe('Tables the write tools may change (globs)'),
    })
    .strict()
    .optional()
    .describe(
      'Absent: read-only. Present: the write tools may change these buckets and tables (also in allow), each change previewed and approved',
    ),
  maxPutBytes: z.number().int().positive().default(1_048_576).describe('Largest text s3_put writes (bytes)'),
});
export type AwsConfig = z.infer<typeof awsConfig>;
