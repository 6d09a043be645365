import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { apiVersionArg, kindArg, nameArg, namespaceArg, namespaceOf, tool } from '../common.js';
import { resolveKind, resourcePath } from '../discovery.js';
import { dependents } from '../owned.js';

export const deleteTool = tool({
  name: 'delete',
  title: 'Delete an object',
  description: 'Delete one object. Dry run first (server-side), showing what it owns that goes with it.',
  input: z.object({
    kind: kindArg,
    name: nameArg,
    namespace: namespaceArg,
    apiVersion: apiVersionArg,
    propagation: z
      .enum(['Background', 'Foreground', 'Orphan'])
      .default('Background')
      .describe('What happens to owned objects'),
  }),
  output: z.object({ deleted: z.string(), owned: z.array(z.string()) }),
  effect: 'destructive',
  toolset: 'write',
  plan: async (args, ctx) => {
    const r = await resolveKind(ctx.client, args.kind, args.apiVersion, ctx.signal);
    const ns = r.namespaced ? namespaceOf(ctx, args.namespace) : undefined;
    const path = resourcePath(r, ns, args.name);
    const live = await ctx.client.get<Obj>(path, { signal: ctx.signal });
    await ctx.client.request('DELETE', path, {
      query: { dryRun: 'All' },
      body: { propagationPolicy: args.propagation },
      signal: ctx.signal,
    });
    const owned = args.propagation === 'Orphan' ? [] : await dependents(ctx.client, live, ctx.signal);
    const what = `${r.kind} ${ns ? `${ns}/` : ''}${args.name}`;
    return {
      change: {
        kind: r.kind,
        namespace: ns ?? null,
        name: args.name,
        uid: live.metadata.uid,
        resourceVersion: live.metadata.resourceVersion,
        owned,
      },
      summary: `delete ${what}${owned.length ? ` and ${owned.length} owned object${owned.length === 1 ? '' : 's'}` : ''}`,
      preview: { delete: what, owned },
      items: [what, ...owned.map((o) => `  owned: ${o}`)].map((text) => ({ text })),
      handle: { path, uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion, what, owned },
    };
  },
  verify: async (_args, ctx, plan) => {
    const h = plan.handle as { path: string; uid: string; resourceVersion: string; what: string };
    const live = await ctx.client.get<Obj>(h.path, { signal: ctx.signal });
    if (live.metadata.uid !== h.uid || live.metadata.resourceVersion !== h.resourceVersion)
      throw new ToolError(
        'stale_plan',
        `${h.what} changed since the dry run`,
        'preview again (call k8s_delete without approval)',
      );
  },
  run: async (args, ctx, plan) => {
    const h = plan?.handle as { path: string; uid: string; what: string; owned: string[] };
    await ctx.client.request('DELETE', h.path, {
      body: { propagationPolicy: args.propagation, preconditions: { uid: h.uid } },
      signal: ctx.signal,
    });
    return { data: { deleted: h.what, owned: h.owned }, text: `deleted ${h.what}` };
  },
});
