import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { type Ctx, nameArg, namespaceArg, namespaceOf, tool } from '../common.js';
import { resolveKind, resourcePath } from '../discovery.js';
import { rolloutProgress } from '../rollout-progress.js';

export const workloadKind = z.enum(['Deployment', 'StatefulSet', 'DaemonSet']).default('Deployment');

async function workload(ctx: Ctx, args: { kind: string; name: string; namespace?: string }) {
  const r = await resolveKind(ctx.client, args.kind, 'apps/v1', ctx.signal);
  const ns = namespaceOf(ctx, args.namespace);
  return { r, ns, path: resourcePath(r, ns, args.name) };
}

export const rolloutStatusTool = tool({
  name: 'rollout_status',
  title: 'Rollout status',
  description: 'Whether a rollout is complete; with wait, polls until it is (progress notifications).',
  input: z.object({
    kind: workloadKind,
    name: nameArg,
    namespace: namespaceArg,
    wait: z.boolean().default(false),
  }),
  output: z.object({ done: z.boolean(), message: z.string() }),
  effect: 'read',
  toolset: 'write',
  run: async (args, ctx) => {
    const { path } = await workload(ctx, args);
    const check = async () => rolloutProgress(await ctx.client.get<Obj>(path, { signal: ctx.signal }));
    if (!args.wait) {
      const p = await check();
      return { data: p, text: p.message };
    }
    const p = await ctx.poll(
      async () => {
        const step = await check();
        return step.done ? { done: true, value: step } : { done: false, message: step.message };
      },
      {
        intervalMs: 1000,
        operation: {
          id: `rollout:${path}`,
          poll: { tool: 'k8s_rollout_status', arguments: { ...args, wait: false } },
        },
      },
    );
    return { data: p, text: p.message };
  },
});

export const rolloutRestartTool = tool({
  name: 'rollout_restart',
  title: 'Restart a rollout',
  description: 'Restart the pods of a workload (sets the restartedAt annotation of its pod template).',
  input: z.object({ kind: workloadKind, name: nameArg, namespace: namespaceArg }),
  output: z.object({ restarted: z.string(), at: z.string() }),
  effect: 'write',
  toolset: 'write',
  plan: async (args, ctx) => {
    const { r, ns, path } = await workload(ctx, args);
    const live = await ctx.client.get<Obj>(path, { signal: ctx.signal });
    const what = `${r.kind} ${ns}/${args.name}`;
    return {
      change: { path, resourceVersion: live.metadata.resourceVersion },
      summary: `restart the pods of ${what} (${
        r.kind === 'DaemonSet'
          ? `${live.status?.desiredNumberScheduled ?? 0} scheduled, one per node`
          : `${live.spec?.replicas ?? 1} replicas`
      })`,
      preview: { restart: what },
      handle: { path, what, resourceVersion: live.metadata.resourceVersion },
    };
  },
  verify: async (_args, ctx, plan) => {
    const h = plan.handle as { path: string; what: string; resourceVersion: string };
    const live = await ctx.client.get<Obj>(h.path, { signal: ctx.signal });
    if (live.metadata.resourceVersion !== h.resourceVersion)
      throw new ToolError('stale_plan', `${h.what} changed since the dry run`, 'preview again');
  },
  run: async (_args, ctx, plan) => {
    const h = plan?.handle as { path: string; what: string };
    const at = new Date().toISOString();
    await ctx.client.request('PATCH', h.path, {
      body: {
        spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
      },
      contentType: 'application/merge-patch+json',
      signal: ctx.signal,
    });
    return { data: { restarted: h.what, at }, text: `restarted ${h.what} at ${at}` };
  },
});
