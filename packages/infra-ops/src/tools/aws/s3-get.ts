import { humanBytes, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { allowed, awsError, s3Of, tool } from '../../aws/client.js';

const BINARY_TYPE = /^(image|audio|video|font)\/|zip|gzip|pdf|x-tar|protobuf|wasm/;
const TEXT_TYPE = /^(text\/|application\/(json|xml|yaml|x-yaml|toml|javascript|x-sh|x-ndjson))|\+json|\+xml/;

export const s3GetTool = tool({
  name: 's3_get',
  title: 'Read an S3 object',
  description:
    'Read a text object (size-capped; the head is kept). Binary objects are refused with their size and type.',
  input: z.object({ bucket: z.string().min(1), key: z.string().min(1) }),
  output: z.object({
    key: z.string(),
    size: z.number(),
    contentType: z.string(),
    text: z.string(),
    truncated: z.boolean().describe('Only the first bytes were read'),
  }),
  effect: 'read',
  run: async ({ bucket: b, key }, ctx) => {
    const bucket = allowed(ctx, 'bucket', b);
    const cap = ctx.config.maxGetBytes;
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = await s3Of(ctx);
    const r = await s3
      .send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${cap - 1}` }), {
        abortSignal: ctx.signal,
      })
      .catch((e) => {
        throw awsError(e, `GetObject s3://${bucket}/${key}`);
      });
    const bytes = Buffer.from((await r.Body?.transformToByteArray()) ?? new Uint8Array());
    const total = Number(r.ContentRange?.split('/')[1] ?? r.ContentLength ?? bytes.length);
    const type = r.ContentType ?? 'application/octet-stream';
    const text = bytes.toString('utf8');
    // binary: a non-text type with bytes that are not text (NUL, invalid UTF-8)
    const looksBinary = bytes.includes(0) || text.includes('\uFFFD');
    if (looksBinary || (!TEXT_TYPE.test(type) && BINARY_TYPE.test(type)))
      throw new ToolError(
        'binary_object',
        `s3://${bucket}/${key} is binary (${type}, ${humanBytes(total)}): not shown`,
        'read text objects only; download it with the AWS CLI if you need it',
        { size: total, contentType: type },
      );
    const truncated = total > bytes.length;
    return {
      data: { key, size: total, contentType: type, text, truncated },
      text: `s3://${bucket}/${key} (${type}, ${humanBytes(total)}${truncated ? `, first ${humanBytes(bytes.length)} shown` : ''})\n${text}`,
    };
  },
});
