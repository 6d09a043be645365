/**
 * helm_rollback (destructive: objects the target revision lacks are deleted). The dry run reads the
 * history, diffs the current revision's manifest against the target's and runs helm's own
 * `rollback --dry-run=server`; the approved call rolls back if the release is still at the revision
 * the preview was made from.
 */
import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { tool } from '../../helm/cli.js';
import { countLine, diffLine, diffManifests } from '../../helm/manifest.js';
import {
  currentRevision,
  helmRelease,
  history,
  namespaceArg,
  namespaceOf,
  releaseArg,
  revisionManifest,
} from '../../helm/release.js';
import { runDetails } from '../../runner.js';
import { objectDiff } from './upgrade.js';

interface Held {
  release: string;
  namespace: string;
  from: number;
  to: number;
}

export const staleRelease = (
  held: { release: string; namespace: string },
  was: number | null,
  now: number | null,
  tool: string,
) =>
  new ToolError(
    'stale_plan',
    `release ${held.release} in ${held.namespace} moved since the preview (revision ${was ?? 'none'} -> ${now ?? 'none'})`,
    `preview again (call ${tool} without approval)`,
  );

export const rollbackTool = tool({
  name: 'rollback',
  title: 'Roll back a Helm release',
  description:
    'Roll a release back to an earlier revision (default: the one before). Dry run first: the per-object diff from the current revision to that one.',
  input: z.object({
    release: releaseArg,
    namespace: namespaceArg,
    revision: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Revision to go back to (default: the previous one)'),
  }),
  output: z.object({
    release: z.string(),
    namespace: z.string(),
    from: z.number(),
    to: z.number().describe('The revision rolled back to'),
    revision: z.number().describe('The new revision the rollback made'),
  }),
  preview: z.object({
    release: z.string(),
    namespace: z.string(),
    from: z.number(),
    to: z.number(),
    toChart: z.string(),
    objects: z.array(objectDiff),
  }),
  effect: 'destructive',
  timeoutMs: 600_000,
  plan: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const revisions = await history(ctx, args.release, namespace);
    const from = revisions.at(-1)?.revision;
    if (from === undefined)
      throw new ToolError(
        'not_found',
        `release "${args.release}" has no history in ${namespace}`,
        'helm_list shows the releases',
      );
    const to = args.revision ?? from - 1;
    const target = revisions.find((h) => h.revision === to);
    if (!target || to === from)
      throw new ToolError(
        'bad_argument',
        to === from
          ? `release ${args.release} is at revision ${to} already`
          : `release ${args.release} has no revision ${to} (kept: ${revisions.map((h) => h.revision).join(', ')})`,
        'pick a revision helm_history lists',
      );
    const [now, then] = [
      await revisionManifest(ctx, args.release, namespace, from),
      await revisionManifest(ctx, args.release, namespace, to),
    ];
    const diffs = diffManifests(now.objects, then.objects);
    // helm's own checks against the cluster; it changes nothing
    await helmRelease(ctx, ['rollback', args.release, String(to), '--dry-run=server'], {
      release: args.release,
      namespace,
    });
    const held: Held = { release: args.release, namespace, from, to };
    return {
      change: {
        ...held,
        manifest: then.sha256,
        objects: diffs.map((d) => [d.object, d.action, d.changes.map((c) => c.path)]),
      },
      preview: { release: args.release, namespace, from, to, toChart: target.chart, objects: diffs },
      summary: `helm rollback ${args.release} in ${namespace}: revision ${from} -> ${to} (${target.chart}, as a new revision ${from + 1}): ${countLine(diffs)}`,
      items: diffs.map((d) => ({ text: diffLine(d), data: d })),
      handle: held,
    };
  },
  verify: async (_args, ctx, plan) => {
    const held = plan.handle as Held;
    const now = await currentRevision(ctx, held.release, held.namespace);
    if (now !== held.from) throw staleRelease(held, held.from, now, 'helm_rollback');
  },
  run: async (_args, ctx, plan) => {
    const held = plan!.handle as Held;
    const r = await helmRelease(ctx, ['rollback', held.release, String(held.to)], held);
    const revision = (await currentRevision(ctx, held.release, held.namespace)) ?? 0;
    return {
      data: { ...held, revision },
      text: `${held.release} in ${held.namespace} rolled back from revision ${held.from} to ${held.to}: now revision ${revision} (${r.durationMs} ms)`,
      audit: runDetails(r),
    };
  },
});
