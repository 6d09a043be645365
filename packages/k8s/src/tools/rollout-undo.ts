import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { nameArg, namespaceArg, tool } from '../common.js';
import { diffObjects, maskSecrets, short } from '../manifest.js';
import { revisions } from './rollout-history.js';

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
    'Roll a deployment back to a revision (default: the previous one); the preview diffs the pod template.',
  input: z.object({
    name: nameArg,
    namespace: namespaceArg,
    toRevision: z.number().int().min(1).optional().describe('Revision (k8s_rollout_history)'),
  }),
  output: z.object({ deployment: z.string(), revision: z.number() }),
  effect: 'write',
  toolset: 'write',
  plan: async (args, ctx) => {
    const { deploy, path, list } = await revisions(ctx, args.name, args.namespace);
    const current = Number(
      deploy.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? list.at(-1)?.revision ?? 0,
    );
    const target =
      args.toRevision !== undefined
        ? list.find((r) => r.revision === args.toRevision)
        : [...list].reverse().find((r) => r.revision < current);
    if (!target)
      throw new ToolError(
        'not_found',
        `deployment ${args.name} has no revision ${args.toRevision ?? `before ${current}`}`,
        'k8s_rollout_history lists the revisions',
      );
    const template = templateOf(target.template);
    const changes = diffObjects(maskSecrets(deploy.spec.template), maskSecrets(template));
    const what = `Deployment ${deploy.metadata.namespace}/${args.name}`;
    return {
      change: { path, revision: target.revision, resourceVersion: deploy.metadata.resourceVersion, changes },
      summary: `roll ${what} back to revision ${target.revision} (${target.images.join(', ')})`,
      preview: { deployment: what, revision: target.revision, changes },
      items: changes.map((c) => ({
        text: `spec.template.${c.path}: ${c.from === undefined ? '(none)' : short(c.from)} -> ${c.to === undefined ? '(removed)' : short(c.to)}`,
      })),
      handle: {
        path,
        template,
        what,
        revision: target.revision,
        resourceVersion: deploy.metadata.resourceVersion,
      },
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
      template: Obj;
      what: string;
      revision: number;
      resourceVersion: string;
    };
    // a JSON merge patch replaces the template's lists; the resourceVersion makes it conditional
    await ctx.client.request('PATCH', h.path, {
      body: { metadata: { resourceVersion: h.resourceVersion }, spec: { template: h.template } },
      contentType: 'application/merge-patch+json',
      signal: ctx.signal,
    });
    return {
      data: { deployment: h.what, revision: h.revision },
      text: `rolled ${h.what} back to revision ${h.revision}`,
    };
  },
});
