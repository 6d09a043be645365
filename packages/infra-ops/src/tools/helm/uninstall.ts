/**
 * helm_uninstall (destructive). The dry run lists what would go (the current revision's objects; those
 * with helm.sh/resource-policy keep stay) and runs helm's own `uninstall --dry-run`; the approved call
 * uninstalls if the release is still at the revision the preview was made from.
 */
import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { tool } from '../../helm/cli.js';
import { diffLine, diffManifests } from '../../helm/manifest.js';
import {
  currentRevision,
  helmRelease,
  namespaceArg,
  namespaceOf,
  releaseArg,
  revisionManifest,
} from '../../helm/release.js';
import { runDetails } from '../../runner.js';
import { staleRelease } from './rollback.js';
import { objectDiff } from './upgrade.js';

interface Held {
  release: string;
  namespace: string;
  revision: number;
  keepHistory: boolean;
}

export const uninstallTool = tool({
  name: 'uninstall',
  title: 'Uninstall a Helm release',
  description:
    'Uninstall a release and delete its objects. Dry run first: the objects that would be deleted.',
  input: z.object({
    release: releaseArg,
    namespace: namespaceArg,
    keepHistory: z
      .boolean()
      .default(false)
      .describe('Keep the release history (helm uninstall --keep-history)'),
  }),
  output: z.object({ release: z.string(), namespace: z.string(), deleted: z.array(z.string()) }),
  preview: z.object({
    release: z.string(),
    namespace: z.string(),
    revision: z.number(),
    objects: z.array(objectDiff),
  }),
  effect: 'destructive',
  timeoutMs: 600_000,
  plan: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const revision = await currentRevision(ctx, args.release, namespace);
    if (revision === null)
      throw new ToolError(
        'not_found',
        `release "${args.release}" not found in namespace ${namespace}`,
        'helm_list shows the releases (allNamespaces: true to look everywhere)',
      );
    const rev = revision;
    const current = await revisionManifest(ctx, args.release, namespace, rev);
    const diffs = diffManifests(current.objects, []);
    await helmRelease(
      ctx,
      ['uninstall', args.release, '--dry-run', ...(args.keepHistory ? ['--keep-history'] : [])],
      { release: args.release, namespace },
    );
    const gone = diffs.filter((d) => d.action === 'delete').length;
    const held: Held = { release: args.release, namespace, revision: rev, keepHistory: args.keepHistory };
    return {
      change: { ...held, manifest: current.sha256, objects: diffs.map((d) => [d.object, d.action]) },
      preview: { release: args.release, namespace, revision: rev, objects: diffs },
      summary: `helm uninstall ${args.release} in ${namespace} (revision ${rev}): ${gone} object${gone === 1 ? '' : 's'} to delete${diffs.length > gone ? `, ${diffs.length - gone} kept` : ''}${args.keepHistory ? '; history kept' : '; history deleted'}`,
      items: diffs.map((d) => ({ text: diffLine(d), data: d })),
      handle: held,
    };
  },
  verify: async (_args, ctx, plan) => {
    const held = plan.handle as Held;
    const now = await currentRevision(ctx, held.release, held.namespace);
    if (now !== held.revision) throw staleRelease(held, held.revision, now, 'helm_uninstall');
  },
  run: async (_args, ctx, plan) => {
    const held = plan!.handle as Held;
    const current = await revisionManifest(ctx, held.release, held.namespace, held.revision);
    const r = await helmRelease(
      ctx,
      ['uninstall', held.release, ...(held.keepHistory ? ['--keep-history'] : [])],
      held,
    );
    const deleted = current.objects.filter((o) => !o.keep).map((o) => o.id);
    return {
      data: { release: held.release, namespace: held.namespace, deleted },
      text: `${held.release} uninstalled from ${held.namespace}: ${deleted.length} objects deleted (${r.durationMs} ms)`,
      audit: runDetails(r),
    };
  },
});
