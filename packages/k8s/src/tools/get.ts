import { maxBytesArg } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { apiVersionArg, kindArg, nameArg, namespaceArg, namespaceOf, pick, slim, tool } from '../common.js';
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
  output: z.object({ object: z.record(z.string(), z.unknown()) }),
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
    // the text is rendered from a masked copy: a short secret value is not left to text scrubbing
    return { data: { object }, text: await toYaml(maskSecrets(object)) };
  },
});

/** Set a dotted path, keeping the nesting (so redaction paths such as data.* still match). */
function put(target: Obj, path: string, value: unknown): Obj {
  const keys = path.split('.');
  let cur = target;
  for (const k of keys.slice(0, -1)) cur = cur[k] ??= {};
  cur[keys[keys.length - 1] as string] = value;
  return target;
}
