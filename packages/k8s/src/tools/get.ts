import { matchesAny, maxBytesArg } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import {
  apiVersionArg,
  type Ctx,
  kindArg,
  nameArg,
  namespaceArg,
  namespaceOf,
  pick,
  slim,
  tool,
} from '../common.js';
import { resolveKind, resourcePath } from '../discovery.js';
import { maskSecrets } from '../manifest.js';
import { toYaml } from '../yaml.js';

export const getTool = tool({
  name: 'get',
  title: 'Get an object',
  description:
    'One object, slim (no managedFields, no last-applied annotation); optionally only some fields.',
  input: z.object({
    maxBytes: maxBytesArg,
    kind: kindArg,
    name: nameArg,
    namespace: namespaceArg,
    apiVersion: apiVersionArg,
    fields: z
      .array(z.string())
      .optional()
      .describe('Only these dotted paths, e.g. ["spec.replicas","status"]'),
  }),
  output: z.object({
    object: z.record(z.string(), z.unknown()),
    decoded: z
      .record(z.string(), z.string())
      .optional()
      .describe("A Secret's values decoded, where the context is in revealSecretsContexts"),
  }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    const r = await resolveKind(ctx.client, args.kind, args.apiVersion, ctx.signal);
    const ns = r.namespaced ? namespaceOf(ctx, args.namespace) : undefined;
    const o = slim(await ctx.client.get<Obj>(resourcePath(r, ns, args.name), { signal: ctx.signal }));
    const object: Obj = args.fields
      ? args.fields.reduce((acc, f) => put(acc, f, pick(o, f)), {
          kind: o.kind,
          metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace },
        } as Obj)
      : o;
    if (
      object.kind === 'Secret' &&
      object.data &&
      matchesAny(ctx.client.context, ctx.config.revealSecretsContexts)
    )
      return await revealed(object, ctx);
    // the text is rendered from a masked copy: a short secret value is not left to text scrubbing
    return { data: { object }, text: await toYaml(maskSecrets(object)) };
  },
});

/**
 * A Secret with its values shown to the caller (the instance opted in): through ctx.reveal, so core
 * puts them in this answer only; the audit record and every other output keep them redacted.
 */
async function revealed(secret: Obj, ctx: Ctx) {
  const entries = Object.entries(secret.data as Record<string, string>);
  const object = { ...secret, data: Object.fromEntries(entries.map(([k, v]) => [k, ctx.reveal(String(v))])) };
  const text = entries.map(([k, v]) => [k, decode(String(v))] as const);
  const decoded = Object.fromEntries(
    text.map(([k, v]) => [k, v.text === undefined ? v.note : ctx.reveal(v.text)]),
  );
  const lines = text.map(
    ([k, v]) => `  ${k}: ${v.text === undefined ? v.note : ctx.reveal(JSON.stringify(v.text))}`,
  );
  return {
    data: { object, decoded },
    text: `${await toYaml(object)}\ndecoded:\n${lines.join('\n')}`,
  };
}

/** A Secret value as text, or a note when it is binary (it stays base64 in data). */
function decode(b64: string): { text?: string; note: string } {
  const bytes = Buffer.from(b64, 'base64');
  const text = bytes.toString('utf8');
  const control = (c: number) => c < 9 || (c > 13 && c < 32);
  const binary = !Buffer.from(text, 'utf8').equals(bytes) || [...bytes].some(control);
  return binary ? { note: `(binary, ${bytes.length} bytes: base64 in data)` } : { text, note: '' };
}

/** Set a dotted path, keeping the nesting (so redaction paths such as data.* still match). */
function put(target: Obj, path: string, value: unknown): Obj {
  const keys = path.split('.');
  let cur = target;
  for (const k of keys.slice(0, -1)) cur = cur[k] ??= {};
  cur[keys[keys.length - 1] as string] = value;
  return target;
}
