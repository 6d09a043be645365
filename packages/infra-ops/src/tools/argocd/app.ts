import { z } from 'zod';
import { appArg, destination, getApp, ref, shortRev } from '../../argocd/app.js';
import { seg, tool } from '../../argocd/client.js';

interface TreeNode {
  kind: string;
  namespace?: string;
  name: string;
  health?: { status?: string; message?: string };
}

export const appTool = tool({
  name: 'app',
  title: 'Argo CD application',
  description:
    'One application: source, destination, sync and health, last operation, out-of-sync resources and a summary of its resource tree (unhealthy nodes listed).',
  input: z.object({ app: appArg }),
  output: z.object({
    name: z.string(),
    project: z.string(),
    source: z.string(),
    destination: z.string(),
    sync: z.string(),
    revision: z.string(),
    health: z.string(),
    operation: z.object({ phase: z.string(), message: z.string() }).optional(),
    outOfSync: z.array(z.object({ resource: z.string(), status: z.string(), requiresPruning: z.boolean() })),
    tree: z.object({
      nodes: z.number(),
      kinds: z.record(z.string(), z.number()).describe('Nodes per kind'),
      unhealthy: z.array(
        z.object({ resource: z.string(), health: z.string(), message: z.string().optional() }),
      ),
    }),
    history: z.array(z.object({ id: z.number(), revision: z.string(), deployedAt: z.string() })),
  }),
  effect: 'read',
  run: async ({ app }, ctx) => {
    const a = await getApp(ctx, app);
    const tree = await ctx.client.api<{ nodes?: TreeNode[] }>(
      'GET',
      `applications/${seg(app)}/resource-tree`,
      {
        signal: ctx.signal,
      },
    );
    const nodes = tree.nodes ?? [];
    const kinds: Record<string, number> = {};
    for (const n of nodes) kinds[n.kind] = (kinds[n.kind] ?? 0) + 1;
    const unhealthy = nodes
      .filter((n) => n.health?.status && n.health.status !== 'Healthy')
      .slice(0, 50)
      .map((n) => ({
        resource: ref(n),
        health: n.health!.status!,
        ...(n.health?.message ? { message: n.health.message.slice(0, 200) } : {}),
      }));
    const outOfSync = (a.status?.resources ?? [])
      .filter((r) => r.status && r.status !== 'Synced')
      .slice(0, 100)
      .map((r) => ({ resource: ref(r), status: r.status!, requiresPruning: Boolean(r.requiresPruning) }));
    const src = a.spec.source;
    const op = a.status?.operationState;
    const data = {
      name: a.metadata.name,
      project: a.spec.project ?? '',
      source: `${src?.repoURL ?? ''} ${src?.path ?? src?.chart ?? ''}@${src?.targetRevision ?? ''}`.trim(),
      destination: destination(a.spec.destination),
      sync: a.status?.sync?.status ?? 'Unknown',
      revision: shortRev(a.status?.sync?.revision),
      health: a.status?.health?.status ?? 'Unknown',
      ...(op ? { operation: { phase: op.phase ?? '', message: (op.message ?? '').slice(0, 300) } } : {}),
      outOfSync,
      tree: { nodes: nodes.length, kinds, unhealthy },
      history: (a.status?.history ?? []).slice(-3).map((h) => ({
        id: Number(h.id),
        revision: shortRev(h.revision),
        deployedAt: h.deployedAt ?? '',
      })),
    };
    return {
      data,
      text: [
        `${data.name} (${data.project}): ${data.sync} at ${data.revision}, ${data.health}`,
        `source: ${data.source}`,
        `destination: ${data.destination}`,
        op && `last operation: ${op.phase} ${data.operation?.message ?? ''}`,
        `resources: ${nodes.length} (${Object.entries(kinds)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`,
        outOfSync.length > 0 &&
          `out of sync:\n${outOfSync.map((r) => `  ${r.resource} ${r.status}${r.requiresPruning ? ' (requires pruning)' : ''}`).join('\n')}`,
        unhealthy.length > 0 &&
          `unhealthy:\n${unhealthy.map((u) => `  ${u.resource} ${u.health}${u.message ? `: ${u.message}` : ''}`).join('\n')}`,
        data.history.length > 0 &&
          `history: ${data.history.map((h) => `#${h.id} ${h.revision} ${h.deployedAt}`).join(', ')}`,
      ]
        .filter(Boolean)
        .join('\n'),
    };
  },
});
