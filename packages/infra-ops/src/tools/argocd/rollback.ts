import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { appArg, getApp, shortRev, waitForOperation } from '../../argocd/app.js';
import { seg, tool } from '../../argocd/client.js';

export const rollbackTool = tool({
  name: 'rollback',
  title: 'Argo CD rollback',
  description:
    'Preview then, with the approval, roll an app back to an earlier deployment (history id from argocd_app). Never prunes.',
  input: z.object({ app: appArg, id: z.number().int().nonnegative().describe('History id to roll back to') }),
  output: z.object({ name: z.string(), phase: z.string(), revision: z.string() }),
  preview: z.object({ app: z.string(), from: z.string(), to: z.string(), deployedAt: z.string() }),
  effect: 'write',
  timeoutMs: 600_000,
  plan: async ({ app, id }, ctx) => {
    const a = await getApp(ctx, app);
    const history = a.status?.history ?? [];
    const h = history.find((x) => Number(x.id) === id);
    if (!h)
      throw new ToolError(
        'not_found',
        `${app} has no deployment with id ${id}`,
        `history ids: ${history.map((x) => x.id).join(', ') || '(none)'}`,
      );
    await ctx.client.api('POST', `applications/${seg(app)}/rollback`, {
      body: { name: app, id, dryRun: true, prune: false },
      signal: ctx.signal,
    });
    const from = shortRev(a.status?.sync?.revision);
    const to = shortRev(h.revision);
    return {
      change: { app, id, from: a.status?.sync?.revision ?? null, to: h.revision ?? null },
      preview: { app, from, to, deployedAt: h.deployedAt ?? '' },
      summary: `roll ${app} back from ${from} to ${to} (deployment #${id}, ${h.deployedAt ?? 'unknown time'})`,
    };
  },
  run: async ({ app, id }, ctx) => {
    await ctx.client.api('POST', `applications/${seg(app)}/rollback`, {
      body: { name: app, id, dryRun: false, prune: false },
      signal: ctx.signal,
    });
    const a = await waitForOperation(ctx, app, 'rollback');
    const data = {
      name: app,
      phase: a.status?.operationState?.phase ?? '',
      revision: shortRev(a.status?.sync?.revision),
    };
    return { data, text: `rolled ${app} back to #${id}: ${data.phase}` };
  },
});
