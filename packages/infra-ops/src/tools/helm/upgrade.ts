/**
 * helm_upgrade (write): install or upgrade a release. The dry run packages the chart and copies the
 * values files (held as the plan's handle), runs `helm upgrade --install --dry-run=server` on them and
 * diffs the rendered objects against the current release's manifest. The approved call installs
 * exactly the held chart and values, after checking that the release has not moved to another
 * revision since the preview.
 */
import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { chartArg, chartDir, helm, tool, valuesArg, valuesPaths } from '../../helm/cli.js';
import { countLine, diffLine, diffManifests, type ObjectDiff } from '../../helm/manifest.js';
import {
  clusterArgs,
  currentRevision,
  namespaceArg,
  namespaceOf,
  parseJsonOut,
  registerSecrets,
  registerSetSecrets,
  registerValuesFiles,
  releaseArg,
  rendered,
  revisionManifest,
} from '../../helm/release.js';
import { dropSnapshot, type Snapshot, snapshot, verifySnapshot } from '../../helm/snapshot.js';
import { runDetails } from '../../runner.js';

export const objectDiff = z.object({
  object: z.string().describe('Kind namespace/name'),
  action: z.enum(['create', 'update', 'delete', 'unchanged', 'keep']),
  changes: z.array(z.object({ path: z.string(), from: z.unknown().optional(), to: z.unknown().optional() })),
});

const preview = z.object({
  release: z.string(),
  namespace: z.string(),
  action: z.enum(['install', 'upgrade']),
  fromRevision: z.number().nullable(),
  chart: z.string(),
  appVersion: z.string(),
  objects: z.array(objectDiff),
});

interface Held {
  release: string;
  namespace: string;
  revision: number | null;
  snapshot: Snapshot;
  set: Record<string, string>;
}

interface ReleaseJson {
  version?: number;
  manifest?: string;
  hooks?: { manifest?: string }[];
  info?: { status?: string };
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string }; values?: unknown };
  config?: unknown;
}

const setArgs = (set: Record<string, string>) => Object.entries(set).map(([k, v]) => `--set=${k}=${v}`);

function upgradeArgv(ctx: Parameters<typeof clusterArgs>[0], h: Held, dryRun: boolean): string[] {
  return [
    'upgrade',
    '--install',
    h.release,
    h.snapshot.chart,
    ...h.snapshot.values.flatMap((f) => ['-f', f]),
    ...setArgs(h.set),
    ...(dryRun ? ['--dry-run=server'] : []),
    '-o',
    'json',
    ...clusterArgs(ctx, h.namespace),
  ];
}

export const upgradeTool = tool({
  name: 'upgrade',
  title: 'Install or upgrade a Helm release',
  description:
    'helm upgrade --install of a chart under the charts root. Dry run first: a per-object diff of the rendered manifests against the current release; the approval installs exactly that chart and values.',
  input: z.object({
    release: releaseArg,
    chart: chartArg,
    namespace: namespaceArg,
    values: valuesArg,
    set: z.record(z.string(), z.string()).default({}).describe('--set key=value pairs'),
  }),
  output: z.object({
    release: z.string(),
    namespace: z.string(),
    revision: z.number(),
    status: z.string(),
    chart: z.string(),
    appVersion: z.string(),
  }),
  preview,
  effect: 'write',
  timeoutMs: 600_000,
  plan: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const dir = chartDir(ctx, args.chart);
    const values = valuesPaths(ctx, args.values);
    registerSetSecrets(ctx, args.set);
    registerValuesFiles(ctx, dir, values);
    const revision = await currentRevision(ctx, args.release, namespace);
    const snap = await snapshot(ctx, dir, values);
    const held: Held = { release: args.release, namespace, revision, snapshot: snap, set: args.set };
    try {
      const current =
        revision === null ? null : await revisionManifest(ctx, args.release, namespace, revision);
      // unmasked: only the manifest is used, its secrets hidden per object
      const r = await helm(ctx, upgradeArgv(ctx, held, true), {
        hint: 'fix the chart or values as the message says; nothing was changed',
        rawStdout: true,
      });
      const rel = parseJsonOut<ReleaseJson>(r.stdout, 'helm upgrade --dry-run');
      registerSecrets(ctx, rel.config, rel.chart?.values);
      const next = rendered(ctx, rel.manifest ?? '', namespace, 'the rendered chart');
      // hooks are not diffed, but their Secrets are masked and the approval covers them too
      const hooks = rendered(
        ctx,
        (rel.hooks ?? []).map((h) => h.manifest ?? '').join('\n---\n'),
        namespace,
        'the rendered hooks',
      );
      const diffs: ObjectDiff[] = diffManifests(current?.objects ?? [], next.objects);
      const m = rel.chart?.metadata ?? {};
      const chart = `${m.name ?? '?'}-${m.version ?? '?'}`;
      const action = revision === null ? ('install' as const) : ('upgrade' as const);
      return {
        change: {
          release: args.release,
          namespace,
          revision,
          // exactly what would be applied, hashed, never shown
          manifest: next.sha256,
          hooks: hooks.sha256,
          objects: diffs.map((d) => [d.object, d.action, d.changes.map((c) => c.path)]),
        },
        preview: {
          release: args.release,
          namespace,
          action,
          fromRevision: revision,
          chart,
          appVersion: m.appVersion ?? '',
          objects: diffs,
        },
        summary: `helm ${action} ${args.release} in ${namespace} (${revision === null ? 'new release' : `revision ${revision} -> ${revision + 1}`}, chart ${chart}): ${countLine(diffs)}`,
        items: diffs.map((d) => ({ text: diffLine(d), data: d })),
        handle: held,
      };
    } catch (err) {
      await dropSnapshot(snap);
      throw err;
    }
  },
  verify: async (_args, ctx, plan) => {
    const held = plan.handle as Held;
    await verifySnapshot(held.snapshot);
    const now = await currentRevision(ctx, held.release, held.namespace);
    if (now !== held.revision)
      throw new ToolError(
        'stale_plan',
        `release ${held.release} in ${held.namespace} moved since the preview (revision ${held.revision ?? 'none'} -> ${now ?? 'none'})`,
        'preview again (call helm_upgrade without approval) and review the new diff',
      );
  },
  discard: async (held: Held) => dropSnapshot(held.snapshot),
  run: async (_args, ctx, plan) => {
    const held = plan!.handle as Held;
    const r = await helm(ctx, upgradeArgv(ctx, held, false), {
      hint: 'helm status and helm history show where the release stands',
    });
    const rel = parseJsonOut<ReleaseJson>(r.stdout, 'helm upgrade');
    const m = rel.chart?.metadata ?? {};
    const data = {
      release: held.release,
      namespace: held.namespace,
      revision: rel.version ?? 0,
      status: rel.info?.status ?? '',
      chart: `${m.name ?? '?'}-${m.version ?? '?'}`,
      appVersion: m.appVersion ?? '',
    };
    return {
      data,
      text: `${data.release} in ${data.namespace}: revision ${data.revision}, ${data.status} (chart ${data.chart}, app ${data.appVersion || '-'}; ${r.durationMs} ms)`,
      // the release JSON carries the values and the rendered Secrets: not kept
      audit: { ...runDetails(r), stdout: `(release JSON, ${r.stdoutBytes} bytes, not kept)` },
    };
  },
});
