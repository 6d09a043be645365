/**
 * s3_put (write) and s3_delete (destructive). The dry run reads the object's current ETag (and, for a
 * text object small enough, its text for a line diff); the change an approval is bound to includes
 * that ETag, so an object changed since the preview makes the approved call `stale_plan` (core
 * re-plans and compares). The put also sends `If-Match`/`If-None-Match`, so S3 itself refuses a
 * write that races the check.
 */
import { humanBytes, isSecretKey, redactString, sha256, ToolError } from '@infra-mcp/core';
import { createPatch } from 'diff';
import { z } from 'zod';
import { awsError, type Ctx, s3Of, tool, writable } from '../../aws/client.js';

interface Current {
  etag: string;
  size: number;
  contentType: string;
}

async function head(ctx: Ctx, bucket: string, key: string): Promise<Current | undefined> {
  const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = await s3Of(ctx);
  try {
    const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: ctx.signal });
    return {
      etag: h.ETag ?? '',
      size: h.ContentLength ?? 0,
      contentType: h.ContentType ?? 'application/octet-stream',
    };
  } catch (e) {
    const err = awsError(e, `HeadObject s3://${bucket}/${key}`);
    if (err.code === 'not_found') return undefined;
    throw err;
  }
}

/** The current text of a small text object, for the diff; undefined when not worth diffing. */
async function currentText(ctx: Ctx, bucket: string, key: string, cur: Current): Promise<string | undefined> {
  if (cur.size > ctx.config.maxGetBytes || !/^text\/|json|yaml|xml|toml/.test(cur.contentType))
    return undefined;
  const { GetObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = await s3Of(ctx);
  const r = await s3
    .send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: cur.etag }), { abortSignal: ctx.signal })
    .catch((e) => {
      throw awsError(e, `GetObject s3://${bucket}/${key}`);
    });
  const bytes = Buffer.from((await r.Body?.transformToByteArray()) ?? new Uint8Array());
  return bytes.includes(0) ? undefined : bytes.toString('utf8');
}

const ASSIGNMENT = /^([+ -]?\s*["']?)([A-Za-z0-9_.-]+)(["']?\s*[:=]\s*)(.+)$/;

/**
 * A diff line with the value of a credential-looking assignment (`DB_PASSWORD=...`, `token: ...`,
 * `"apiKey": "..."`) replaced by a short hash: the diff still says the value changed, not what it is.
 */
function maskLine(line: string): string {
  const m = ASSIGNMENT.exec(line);
  if (!m || !isSecretKey(m[2] as string)) return redactString(line);
  return `${m[1]}${m[2]}${m[3]}(hidden sha256:${sha256(m[4] as string).slice(0, 8)})`;
}

const target = {
  bucket: z.string().min(1).describe('Bucket (in allow and writes.bucket)'),
  key: z.string().min(1).describe('Object key'),
};

const putPreview = z.object({
  action: z.enum(['create', 'overwrite']),
  object: z.string().describe('s3://bucket/key'),
  size: z.number(),
  contentType: z.string(),
  before: z.object({ size: z.number(), etag: z.string(), contentType: z.string() }).optional(),
  diff: z.string().optional().describe('Unified diff of the text (credential-looking values masked)'),
});

export const s3PutTool = tool({
  name: 's3_put',
  title: 'Write a text object to S3',
  description:
    'Create or overwrite a text object. Dry run first: shows create/overwrite and a line diff against the current text; the approved call writes exactly that text, refused if the object changed since.',
  input: z.object({
    ...target,
    text: z.string().describe('The whole new content (UTF-8 text)'),
    contentType: z.string().default('text/plain; charset=utf-8'),
  }),
  output: z.object({ object: z.string(), etag: z.string(), size: z.number() }),
  preview: putPreview,
  effect: 'write',
  contentArgs: ['text'],
  plan: async ({ bucket: b, key, text, contentType }, ctx) => {
    const bucket = writable(ctx, 'bucket', b);
    const size = Buffer.byteLength(text);
    if (size > ctx.config.maxPutBytes)
      throw new ToolError(
        'too_large',
        `the text is ${humanBytes(size)}; s3_put writes at most ${humanBytes(ctx.config.maxPutBytes)}`,
        'upload large files with the AWS CLI, or raise plugins.aws.maxPutBytes',
      );
    const cur = await head(ctx, bucket, key);
    const object = `s3://${bucket}/${key}`;
    const old = cur ? await currentText(ctx, bucket, key, cur) : '';
    const diff =
      old === undefined
        ? undefined
        : createPatch(object, old, text, cur ? `etag ${cur.etag}` : 'absent', 'new')
            .split('\n')
            .slice(2)
            .map(maskLine)
            .join('\n');
    const preview = {
      action: cur ? ('overwrite' as const) : ('create' as const),
      object,
      size,
      contentType,
      ...(cur ? { before: cur } : {}),
      ...(diff !== undefined ? { diff } : {}),
    };
    const summary = cur
      ? `overwrite ${object} (${humanBytes(cur.size)} -> ${humanBytes(size)})`
      : `create ${object} (${humanBytes(size)}, ${contentType})`;
    return {
      change: { bucket, key, sha256: sha256(text), contentType, before: cur?.etag ?? null },
      preview,
      summary,
      text: diff ?? `${summary}\n(the current object is binary or larger than maxGetBytes: no diff)`,
      items: (diff ?? '')
        .split('\n')
        .filter(Boolean)
        .map((line) => ({ text: line })),
    };
  },
  run: async ({ text, contentType }, ctx, plan) => {
    const { change } = plan as unknown as { change: { bucket: string; key: string; before: string | null } };
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = await s3Of(ctx);
    const object = `s3://${change.bucket}/${change.key}`;
    const r = await s3
      .send(
        new PutObjectCommand({
          Bucket: change.bucket,
          Key: change.key,
          Body: text,
          ContentType: contentType,
          ...(change.before ? { IfMatch: change.before } : { IfNoneMatch: '*' }),
        }),
        { abortSignal: ctx.signal },
      )
      .catch((e) => {
        const err = awsError(e, `PutObject ${object}`);
        throw /PreconditionFailed|ConditionalRequestConflict/.test(err.message)
          ? new ToolError(
              'stale_plan',
              `${object} changed after the preview: nothing was written`,
              'call s3_put again without approval to preview the current object',
            )
          : err;
      });
    const size = Buffer.byteLength(text);
    return {
      data: { object, etag: r.ETag ?? '', size },
      text: `wrote ${object} (${humanBytes(size)}, etag ${r.ETag ?? '?'})`,
    };
  },
});

export const s3DeleteTool = tool({
  name: 's3_delete',
  title: 'Delete an S3 object',
  description:
    'Delete one object. Dry run first: shows its size, type and ETag; the approved call deletes it only if it is still that object.',
  input: z.object(target),
  output: z.object({ deleted: z.string() }),
  preview: z.object({ object: z.string(), size: z.number(), etag: z.string(), contentType: z.string() }),
  effect: 'destructive',
  plan: async ({ bucket: b, key }, ctx) => {
    const bucket = writable(ctx, 'bucket', b);
    const object = `s3://${bucket}/${key}`;
    const cur = await head(ctx, bucket, key);
    if (!cur)
      throw new ToolError('not_found', `${object} does not exist`, 'check the key with aws_s3_objects');
    const summary = `delete ${object} (${humanBytes(cur.size)}, ${cur.contentType}, etag ${cur.etag})`;
    return { change: { bucket, key, etag: cur.etag }, preview: { object, ...cur }, summary, text: summary };
  },
  run: async ({ bucket, key }, ctx) => {
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = await s3Of(ctx);
    const object = `s3://${bucket}/${key}`;
    await s3
      .send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: ctx.signal })
      .catch((e) => {
        throw awsError(e, `DeleteObject ${object}`);
      });
    return { data: { deleted: object }, text: `deleted ${object}` };
  },
});
