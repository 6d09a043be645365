import { z } from 'zod';
import { tool } from '../../helm/cli.js';
import {
  helmRelease,
  history,
  isoTime,
  namespaceArg,
  namespaceOf,
  parseJsonOut,
  registerSecrets,
  releaseArg,
} from '../../helm/release.js';
import { releaseRow } from './list.js';

interface StatusJson {
  name?: string;
  namespace?: string;
  version?: number;
  info?: {
    status?: string;
    description?: string;
    first_deployed?: string;
    last_deployed?: string;
    resources?: Record<string, { kind?: string; metadata?: { name?: string } }[]>;
  };
  chart?: { metadata?: { name?: string; version?: string; appVersion?: string }; values?: unknown };
  config?: unknown;
}

export const statusTool = tool({
  name: 'status',
  title: 'Helm release status',
  description:
    'One release: revision, status, chart, app version, deploy times, description and its objects.',
  input: z.object({ release: releaseArg, namespace: namespaceArg }),
  output: releaseRow.extend({
    firstDeployed: z.string(),
    description: z.string(),
    objects: z.array(z.string()).describe('Kind/name of the objects the release holds'),
  }),
  effect: 'read',
  run: async (args, ctx) => {
    const namespace = namespaceOf(ctx, args.namespace);
    const r = await helmRelease(ctx, ['status', args.release, '-o', 'json'], {
      release: args.release,
      namespace,
    });
    const s = parseJsonOut<StatusJson>(r.stdout, 'helm status');
    // the values the release was made with: their credentials are masked wherever they might show
    registerSecrets(ctx, s.config, s.chart?.values);
    // helm 4 leaves the chart out of status: the latest history entry has it (as `helm list` shows it)
    const latest = (await history(ctx, args.release, namespace, 1)).at(-1);
    const m = s.chart?.metadata;
    const objects = Object.values(s.info?.resources ?? {})
      .flat()
      .filter((o) => o.metadata?.name) // related lists (PodList) have no name
      .map((o) => `${o.kind}/${o.metadata?.name}`);
    const data = {
      name: s.name ?? args.release,
      namespace: s.namespace ?? namespace,
      revision: s.version ?? 0,
      status: s.info?.status ?? '',
      chart: m ? `${m.name}-${m.version}` : (latest?.chart ?? ''),
      appVersion: m ? (m.appVersion ?? '') : (latest?.appVersion ?? ''),
      updated: isoTime(s.info?.last_deployed ?? ''),
      firstDeployed: isoTime(s.info?.first_deployed ?? ''),
      description: s.info?.description ?? '',
      objects,
    };
    return {
      data,
      text: [
        `${data.name} in ${data.namespace}: revision ${data.revision}, ${data.status}`,
        `chart ${data.chart}, app ${data.appVersion || '-'}; deployed ${data.updated} (first ${data.firstDeployed})`,
        `description: ${data.description}`,
        `objects (${objects.length}): ${objects.join(', ') || '-'}`,
      ].join('\n'),
    };
  },
});
