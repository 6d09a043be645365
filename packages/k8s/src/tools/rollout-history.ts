import { ToolError, table } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { type Ctx, nameArg, namespaceArg, namespaceOf, tool } from '../common.js';

const REVISION = 'deployment.kubernetes.io/revision';

export interface Revision {
  revision: number;
  replicaSet: string;
  images: string[];
  changeCause?: string;
  template: Obj;
}

/** A deployment's revisions: the ReplicaSets it owns, by their revision annotation, oldest first. */
export async function revisions(
  ctx: Ctx,
  name: string,
  namespace?: string,
): Promise<{ deploy: Obj; path: string; list: Revision[] }> {
  const ns = namespaceOf(ctx, namespace);
  const path = `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments/${encodeURIComponent(name)}`;
  const deploy = await ctx.client.get<Obj>(path, { signal: ctx.signal });
  const rs = await ctx.client.get<Obj>(`/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/replicasets`, {
    signal: ctx.signal,
  });
  const list = (rs.items ?? [])
    .filter((r: Obj) => (r.metadata.ownerReferences ?? []).some((o: Obj) => o.uid === deploy.metadata.uid))
    .map((r: Obj) => ({
      revision: Number(r.metadata.annotations?.[REVISION] ?? 0),
      replicaSet: r.metadata.name,
      images: (r.spec?.template?.spec?.containers ?? []).map((c: Obj) => c.image),
      ...(r.metadata.annotations?.['kubernetes.io/change-cause']
        ? { changeCause: r.metadata.annotations['kubernetes.io/change-cause'] }
        : {}),
      template: r.spec?.template ?? {},
    }))
    .sort((a: Revision, b: Revision) => a.revision - b.revision);
  return { deploy, path, list };
}

export const rolloutHistoryTool = tool({
  name: 'rollout_history',
  title: 'Rollout history',
  description: "A deployment's revisions (its ReplicaSets): revision, images, change cause.",
  input: z.object({ name: nameArg, namespace: namespaceArg }),
  output: z.object({
    revisions: z.array(
      z.object({
        revision: z.number(),
        replicaSet: z.string(),
        images: z.array(z.string()),
        changeCause: z.string().optional(),
      }),
    ),
  }),
  effect: 'read',
  toolset: 'write',
  run: async (args, ctx) => {
    const { list } = await revisions(ctx, args.name, args.namespace);
    if (list.length === 0)
      throw new ToolError(
        'not_found',
        `deployment ${args.name} has no revisions (no ReplicaSets)`,
        'k8s_describe shows its state',
      );
    const rows = list.map(({ template: _t, ...r }) => r);
    return {
      data: { revisions: rows },
      text: table(
        ['REVISION', 'REPLICASET', 'IMAGES', 'CHANGE-CAUSE'],
        rows.map((r) => [String(r.revision), r.replicaSet, r.images.join(','), r.changeCause ?? '']),
      ),
    };
  },
});
