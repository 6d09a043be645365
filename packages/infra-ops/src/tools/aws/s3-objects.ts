import { humanBytes, listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { allowed, awsError, s3Of, tool } from '../../aws/client.js';

export const s3ObjectsTool = tool({
  name: 's3_objects',
  title: 'S3 objects',
  description:
    'Objects in a bucket under a prefix (folders as common prefixes), with size and time; paged by cursor.',
  input: listInput({
    bucket: z.string().min(1).describe('Bucket'),
    prefix: z.string().default('').describe('Key prefix'),
    delimiter: z.boolean().default(true).describe('Group keys below the prefix into folders ("/")'),
    limit: z.number().int().min(1).max(1000).default(100).describe('Keys asked of S3 per page'),
  }),
  output: listOutput({
    objects: z.array(z.object({ key: z.string(), size: z.number(), modified: z.string() })),
    folders: z.array(z.string()),
  }),
  effect: 'read',
  run: async (args, ctx) => {
    const bucket = allowed(ctx, 'bucket', args.bucket);
    const list = pager('aws_s3_objects', ctx, args);
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const s3 = await s3Of(ctx);
    const r = await s3
      .send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: args.prefix || undefined,
          Delimiter: args.delimiter ? '/' : undefined,
          MaxKeys: args.limit,
          ContinuationToken: list.token,
        }),
        { abortSignal: ctx.signal },
      )
      .catch((e) => {
        throw awsError(e, `ListObjectsV2 ${bucket}`);
      });
    const folders = (r.CommonPrefixes ?? []).map((p) => p.Prefix ?? '');
    const items = [
      ...folders.map((f) => ({ key: f, size: -1, modified: '' })),
      ...(r.Contents ?? []).map((o) => ({
        key: o.Key ?? '',
        size: o.Size ?? 0,
        modified: o.LastModified?.toISOString() ?? '',
      })),
    ];
    return list.page({
      items,
      next: r.IsTruncated ? r.NextContinuationToken : undefined,
      line: (o) => (o.size < 0 ? `${o.key}` : `${o.key}  ${humanBytes(o.size)}  ${o.modified}`),
      what: 'objects',
      narrow: 'prefix',
      data: (page) => ({
        objects: page.items.filter((o) => o.size >= 0),
        folders: page.items.filter((o) => o.size < 0).map((o) => o.key),
      }),
      text: (page, range) => [
        `s3://${bucket}/${args.prefix}${range}`,
        ...page.items.map((o) =>
          o.size < 0 ? `${o.key}` : `${o.key}  ${humanBytes(o.size)}  ${o.modified}`,
        ),
      ],
    });
  },
});
