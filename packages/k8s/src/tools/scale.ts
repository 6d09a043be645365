import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { nameArg, namespaceArg, namespaceOf, tool } from '../common.js';
import { resolveKind, resourcePath } from '../discovery.js';

export const scaleTool = tool({
  name: 'scale',
  title: 'Scale a workload',
  description: 'Set the replicas of a Deployment, StatefulSet or ReplicaSet (scale subresource).',
  input: z.object({
    kind: z.string().default('Deployment').describe('Deployment, StatefulSet, ReplicaSet'),
    name: nameArg,
    namespace: namespaceArg,
    replicas: z.number().int().min(0).describe('Desired replicas'),
  }),
  output: z.object({ name: z.string(), from: z.number(), to: z.number() }),
  effect: 'write',
  idempotent: true,
  toolset: 'write',
  plan: async (args, ctx) => {
    const r = await resolveKind(ctx.client, args.kind, undefined, ctx.signal);
    const ns = namespaceOf(ctx, args.namespace);
    const path = resourcePath(r, ns, args.name, 'scale');
    const s = await ctx.client.get<Obj>(path, { signal: ctx.signal });
    const from = Number(s.spec?.replicas ?? 0);
    const what = `${r.kind} ${ns}/${args.name}`;
    return {
      change: { path, from, to: args.replicas, resourceVersion: s.metadata?.resourceVersion },
      summary: `scale ${what} from ${from} to ${args.replicas} replicas`,
      preview: { object: what, from, to: args.replicas },
      handle: { path, from, resourceVersion: s.metadata?.resourceVersion, what },
    };
  },
  verify: async (_args, ctx, plan) => {
    const h = plan.handle as { path: string; resourceVersion: string; what: string };
    const s = await ctx.client.get<Obj>(h.path, { signal: ctx.signal });
    if (s.metadata?.resourceVersion !== h.resourceVersion)
      throw new ToolError(
        'stale_plan',
        `${h.what} changed since the dry run`,
        'preview again (call k8s_scale without approval)',
      );
  },
  run: async (args, ctx, plan) => {
    const h = plan?.handle as { path: string; from: number; what: string };
    await ctx.client.request('PATCH', h.path, {
      body: { spec: { replicas: args.replicas } },
      contentType: 'application/merge-patch+json',
      signal: ctx.signal,
    });
    return {
      data: { name: h.what, from: h.from, to: args.replicas },
      text: `scaled ${h.what} from ${h.from} to ${args.replicas}`,
    };
  },
});
