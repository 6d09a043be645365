/**
 * argocd_sync (write, never prunes) and argocd_sync_prune (destructive: deletes resources that are
 * no longer in git). The dry run asks Argo CD itself (sync with dryRun: true) and lists the
 * out-of-sync resources; the approved call syncs and waits for the operation.
 */
import { z } from 'zod';
import { appArg, getApp, ref, shortRev, waitForOperation } from '../../argocd/app.js';
import { seg, tool } from '../../argocd/client.js';

const item = z.object({
  resource: z.string(),
  status: z.string(),
  action: z.enum(['sync', 'prune', 'left (prune not asked)']),
});

function syncTool(prune: boolean) {
  return tool({
    name: prune ? 'sync_prune' : 'sync',
    title: prune ? 'Argo CD sync with prune' : 'Argo CD sync',
    description: prune
      ? 'Like argocd_sync, and delete resources no longer in git (prune).'
      : 'Preview (Argo CD dry run) then, with the approval, sync an app to git and wait. Never prunes: argocd_sync_prune does.',
    input: z.object({
      app: appArg,
      revision: z.string().max(256).optional().describe('Git revision (default: the target revision)'),
    }),
    output: z.object({
      name: z.string(),
      phase: z.string(),
      sync: z.string(),
      health: z.string(),
      revision: z.string(),
    }),
    preview: z.object({ app: z.string(), revision: z.string(), resources: z.array(item) }),
    effect: prune ? 'destructive' : 'write',
    timeoutMs: 600_000,
    plan: async ({ app, revision }, ctx) => {
      const a = await getApp(ctx, app);
      // Argo CD's own dry run: refuses an unknown revision, a running operation, a missing permission
      await ctx.client.api('POST', `applications/${seg(app)}/sync`, {
        body: { name: app, dryRun: true, prune, ...(revision ? { revision } : {}) },
        signal: ctx.signal,
      });
      const resources = (a.status?.resources ?? [])
        .filter((r) => r.status && r.status !== 'Synced')
        .map((r) => ({
          resource: ref(r),
          status: r.status!,
          action: r.requiresPruning
            ? prune
              ? ('prune' as const)
              : ('left (prune not asked)' as const)
            : ('sync' as const),
        }));
      const pruned = resources.filter((r) => r.action === 'prune').length;
      const rev = revision ?? a.spec.source?.targetRevision ?? 'HEAD';
      return {
        change: {
          app,
          revision: rev,
          prune,
          resources: resources.map((r) => [r.resource, r.status, r.action]),
        },
        preview: { app, revision: rev, resources },
        summary: `sync ${app} to ${rev}: ${resources.length} resources out of sync${prune ? `, ${pruned} pruned` : ''}`,
        items: resources.map((r) => ({ text: `${r.action.padEnd(5)} ${r.resource} (${r.status})`, data: r })),
      };
    },
    run: async ({ app, revision }, ctx) => {
      await ctx.client.api('POST', `applications/${seg(app)}/sync`, {
        body: { name: app, dryRun: false, prune, ...(revision ? { revision } : {}) },
        signal: ctx.signal,
      });
      const a = await waitForOperation(ctx, app, 'sync');
      const data = {
        name: app,
        phase: a.status?.operationState?.phase ?? '',
        sync: a.status?.sync?.status ?? 'Unknown',
        health: a.status?.health?.status ?? 'Unknown',
        revision: shortRev(a.status?.sync?.revision),
      };
      return {
        data,
        text: `synced ${app}: ${data.phase}; now ${data.sync} at ${data.revision}, ${data.health}`,
      };
    },
  });
}

export const syncWriteTool = syncTool(false);
export const syncPruneTool = syncTool(true);
