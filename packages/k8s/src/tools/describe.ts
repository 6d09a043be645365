import { maxBytesArg } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { age, apiVersionArg, kindArg, nameArg, namespaceArg, namespaceOf, slim, tool } from '../common.js';
import { resolveKind, resourcePath } from '../discovery.js';
import { fetchEvents } from '../events.js';
import { maskSecrets } from '../manifest.js';
import { ownedPods } from '../owned.js';
import { toYaml } from '../yaml.js';

export const describeTool = tool({
  name: 'describe',
  title: 'Describe an object',
  description: 'An object with its conditions, recent events (warnings first) and the pods it owns.',
  input: z.object({
    maxBytes: maxBytesArg,
    kind: kindArg,
    name: nameArg,
    namespace: namespaceArg,
    apiVersion: apiVersionArg,
  }),
  output: z.object({
    object: z.record(z.string(), z.unknown()),
    conditions: z.array(z.record(z.string(), z.unknown())),
    events: z.array(z.record(z.string(), z.unknown())),
    pods: z.array(z.array(z.string())),
  }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    const r = await resolveKind(ctx.client, args.kind, args.apiVersion, ctx.signal);
    const ns = r.namespaced ? namespaceOf(ctx, args.namespace) : undefined;
    const o = slim(await ctx.client.get<Obj>(resourcePath(r, ns, args.name), { signal: ctx.signal }));
    const [events, owned] = await Promise.all([
      fetchEvents(ctx.client, ns, { kind: r.kind, name: args.name }, ctx.signal).catch(() => []),
      r.kind === 'Pod' ? Promise.resolve([]) : ownedPods(ctx.client, o, ctx.signal),
    ]);
    const conditions = (o.status?.conditions ?? []) as Obj[];
    const pods = owned.map((p) => [
      p.metadata.name,
      p.status?.phase ?? '',
      age(p.metadata.creationTimestamp),
    ]);
    const { status: _s, ...rest } = o;
    const data = { object: o, conditions, events: events.slice(0, 10) as never[], pods };
    const text = [
      await toYaml(maskSecrets(rest)),
      conditions.length
        ? `Conditions:\n${conditions.map((c) => `  ${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`).join('\n')}`
        : 'Conditions: none',
      pods.length ? `Pods:\n${pods.map((p) => `  ${p.join(' ')}`).join('\n')}` : '',
      events.length
        ? `Events:\n${events
            .slice(0, 10)
            .map((e) => `  ${e.type} ${e.reason} ${age(e.last)}: ${e.message}`)
            .join('\n')}`
        : 'Events: none',
    ].filter(Boolean);
    return { data, text: text.join('\n') };
  },
});
