import { ToolError, table } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { type Ctx, nameArg, namespaceArg, namespaceOf, tool } from '../common.js';
import { workloadKind } from './rollout.js';

const REVISION = 'deployment.kubernetes.io/revision';
const CHANGE_CAUSE = 'kubernetes.io/change-cause';
const PLURAL = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

export type WorkloadKind = keyof typeof PLURAL;

export interface Revision {
  revision: number;
  /** The ReplicaSet (a Deployment's revision) or ControllerRevision (a StatefulSet's or DaemonSet's). */
  replicaSet?: string;
  controllerRevision?: string;
  images: string[];
  changeCause?: string;
  template: Obj;
  /** A ControllerRevision's data: the strategic merge patch that restores its template (what kubectl sends). */
  patch?: Obj;
}

const imagesOf = (template: Obj): string[] => (template?.spec?.containers ?? []).map((c: Obj) => c.image);
const changeCause = (o: Obj) =>
  o.metadata.annotations?.[CHANGE_CAUSE]
    ? { changeCause: o.metadata.annotations[CHANGE_CAUSE] as string }
    : {};
const controlledBy = (o: Obj, owner: Obj) =>
  (o.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === owner.metadata.uid && r.controller !== false);

/**
 * A workload's revisions, oldest first, found as kubectl finds them: a Deployment's ReplicaSets by
 * their revision annotation; a StatefulSet's or DaemonSet's ControllerRevisions (selected by the
 * workload's labels, controlled by it).
 */
export async function revisions(
  ctx: Ctx,
  kind: WorkloadKind,
  name: string,
  namespace?: string,
): Promise<{ workload: Obj; path: string; list: Revision[] }> {
  const ns = encodeURIComponent(namespaceOf(ctx, namespace));
  const base = `/apis/apps/v1/namespaces/${ns}`;
  const path = `${base}/${PLURAL[kind]}/${encodeURIComponent(name)}`;
  const workload = await ctx.client.get<Obj>(path, { signal: ctx.signal });
  let list: Revision[];
  if (kind === 'Deployment') {
    const rs = await ctx.client.get<Obj>(`${base}/replicasets`, { signal: ctx.signal });
    list = (rs.items ?? [])
      .filter((r: Obj) => controlledBy(r, workload))
      .map((r: Obj) => ({
        revision: Number(r.metadata.annotations?.[REVISION] ?? 0),
        replicaSet: r.metadata.name,
        images: imagesOf(r.spec?.template),
        ...changeCause(r),
        template: r.spec?.template ?? {},
      }));
  } else {
    const selector = Object.entries(workload.spec?.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const crs = await ctx.client.get<Obj>(`${base}/controllerrevisions`, {
      query: { labelSelector: selector },
      signal: ctx.signal,
    });
    list = (crs.items ?? [])
      .filter((c: Obj) => controlledBy(c, workload))
      .map((c: Obj) => {
        const { $patch: _p, ...template } = c.data?.spec?.template ?? {};
        return {
          revision: Number(c.revision ?? 0),
          controllerRevision: c.metadata.name,
          images: imagesOf(template),
          ...changeCause(c),
          template,
          patch: c.data,
        };
      });
  }
  return { workload, path, list: list.sort((a, b) => a.revision - b.revision) };
}

export const rolloutHistoryTool = tool({
  name: 'rollout_history',
  title: 'Rollout history',
  description:
    "A workload's revisions (a Deployment's ReplicaSets, a StatefulSet's or DaemonSet's ControllerRevisions): revision, images, change cause.",
  input: z.object({ kind: workloadKind, name: nameArg, namespace: namespaceArg }),
  output: z.object({
    revisions: z.array(
      z.object({
        revision: z.number(),
        replicaSet: z.string().optional(),
        controllerRevision: z.string().optional(),
        images: z.array(z.string()),
        changeCause: z.string().optional(),
      }),
    ),
  }),
  effect: 'read',
  toolset: 'write',
  run: async (args, ctx) => {
    const { list } = await revisions(ctx, args.kind, args.name, args.namespace);
    if (list.length === 0)
      throw new ToolError(
        'not_found',
        `${args.kind} ${args.name} has no revisions (no ${args.kind === 'Deployment' ? 'ReplicaSets' : 'ControllerRevisions'})`,
        'k8s_describe shows its state',
      );
    const rows = list.map(({ template: _t, patch: _p, ...r }) => r);
    return {
      data: { revisions: rows },
      text: table(
        [
          'REVISION',
          args.kind === 'Deployment' ? 'REPLICASET' : 'CONTROLLERREVISION',
          'IMAGES',
          'CHANGE-CAUSE',
        ],
        rows.map((r) => [
          String(r.revision),
          r.replicaSet ?? r.controllerRevision ?? '',
          r.images.join(','),
          r.changeCause ?? '',
        ]),
      ),
    };
  },
});
