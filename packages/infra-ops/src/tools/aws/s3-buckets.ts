import { matchesAny } from '@infra-mcp/core';
import { z } from 'zod';
import { awsError, s3Of, tool } from '../../aws/client.js';

export const s3BucketsTool = tool({
  name: 's3_buckets',
  title: 'S3 buckets',
  description: 'S3 buckets this server may read (the bucket allow-list applied), with creation dates.',
  input: z.object({}),
  output: z.object({
    buckets: z.array(z.object({ name: z.string(), created: z.string() })),
    hidden: z.number(),
  }),
  effect: 'read',
  run: async (_args, ctx) => {
    const { ListBucketsCommand } = await import('@aws-sdk/client-s3');
    const s3 = await s3Of(ctx);
    const r = await s3.send(new ListBucketsCommand({}), { abortSignal: ctx.signal }).catch((e) => {
      throw awsError(e, 'ListBuckets');
    });
    const globs = ctx.config.allow?.bucket;
    const all = (r.Buckets ?? []).map((b) => ({
      name: b.Name ?? '',
      created: b.CreationDate?.toISOString() ?? '',
    }));
    const buckets = all.filter((b) => globs === undefined || matchesAny(b.name, globs));
    return {
      data: { buckets, hidden: all.length - buckets.length },
      text: [
        `${buckets.length} buckets${all.length > buckets.length ? ` (${all.length - buckets.length} outside the allow-list not shown)` : ''}`,
        ...buckets.map((b) => `${b.name}  ${b.created}`),
      ].join('\n'),
    };
  },
});
