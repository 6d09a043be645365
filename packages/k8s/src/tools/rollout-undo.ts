import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { nameArg, namespaceArg, tool } from '../common.js';
import { diffObjects, maskSecrets, short } from '../manifest.js';
import { workloadKind } from './rollout.js';
import { revisions } from './rollout-history.js';

const REVISION = 'deployment.kubernetes.io/revision';

/** The pod template of a revision as the deployment holds it (the ReplicaSet adds pod-template-hash). */
function templateOf(t: Obj): Obj {
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels['pod-template-hash'];
  return { ...t, metadata: { ...t.metadata, labels } };
}

export const rolloutUndoTool = tool({
  name: 'rollout_undo',
  title: 'Undo a rollout',
  description:
    'Roll a Deployment, StatefulSet or DaemonSet back to a revision (default: the previous one); the preview diffs the pod template.',
  input: z.object({
    kind: workloadKind,
    name: nameArg,
    namespace: namespaceArg,
    toRevision: z.number().int().min(1).optional().describe('Revision (k8s_rollout_history)'),
  }),
  output: z.object({ workload: z.string(), revision: z.number() }),
  effect: 'write',
  toolset: 'write',
  plan: async (args, ctx) => {
    const { workload, path, list } = await revisions(ctx, args.kind, args.name, args.namespace);
    // a Deployment's current revision is its annotation; a ControllerRevision's controller renumbers the live one as the newest
    const current = Number(
      (args.kind === 'Deployment' ? workload.metadata.annotations?.[REVISION] : undefined) ??
        list.at(-1)?.revision ??
        0,
    );
    const target =
      args.toRevision !== undefined
        ? list.find((r) => r.revision === args.toRevision)
        : [...list].reverse().find((r) => r.revision < current);
    if (!target)
      throw new ToolError(
        'not_found',
        `${args.kind} ${args.name} has no revision ${args.toRevision ?? `before ${current}`}`,
        'k8s_rollout_history lists the revisions',
      );
    const template = templateOf(target.template);
    const changes = diffObjects(maskSecrets(workload.spec.template), maskSecrets(template));
    const what = `${args.kind} ${workload.metadata.namespace}/${args.name}`;
    const resourceVersion = workload.metadata.resourceVersion;
    // a Deployment: a JSON merge patch of the template (it replaces the template's lists); a StatefulSet or
    // DaemonSet: the revision's own strategic merge patch, as kubectl sends it; the resourceVersion makes either conditional
    const patch = target.patch
      ? {
          body: { ...target.patch, metadata: { resourceVersion } },
          contentType: 'application/strategic-merge-patch+json',
        }
      : {
          body: { metadata: { resourceVersion }, spec: { template } },
          contentType: 'application/merge-patch+json',
        };
    return {
      change: { path, revision: target.revision, resourceVersion, changes },
      summary: `roll ${what} back to revision ${target.revision} (${target.images.join(', ')})`,
      preview: { workload: what, revision: target.revision, changes },
      items: changes.map((c) => ({
        text: `spec.template.${c.path}: ${c.from === undefined ? '(none)' : short(c.from)} -> ${c.to === undefined ? '(removed)' : short(c.to)}`,
      })),
      handle: { path, patch, what, revision: target.revision, resourceVersion },
    };
  },
  verify: async (_args, ctx, plan) => {
    const h = plan.handle as { path: string; what: string; resourceVersion: string };
    const live = await ctx.client.get<Obj>(h.path, { signal: ctx.signal });
    if (live.metadata.resourceVersion !== h.resourceVersion)
      throw new ToolError(
        'stale_plan',
        `${h.what} changed since the dry run`,
        'preview again (call k8s_rollout_undo without approval)',
      );
  },
  run: async (_args, ctx, plan) => {
    const h = plan?.handle as {
      path: string;
      patch: { body: Obj; contentType: string };
      what: string;
      revision: number;
    };
    await ctx.client.request('PATCH', h.path, { ...h.patch, signal: ctx.signal });
    return {
      data: { workload: h.what, revision: h.revision },
      text: `rolled ${h.what} back to revision ${h.revision}`,
    };
  },
});
