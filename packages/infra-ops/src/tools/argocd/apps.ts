import { listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { type Application, destination } from '../../argocd/app.js';
import { tool } from '../../argocd/client.js';

/** Only what the list shows: Argo CD's `fields` projection keeps the answer ~45 KB for 200 apps, not ~2 MB. */
const FIELDS = [
  'items.metadata.name',
  'items.spec.project',
  'items.spec.destination.namespace',
  'items.spec.destination.server',
  'items.spec.destination.name',
  'items.status.sync.status',
  'items.status.health.status',
].join(',');

type Row = [name: string, project: string, sync: string, health: string, destination: string];

export const appsTool = tool({
  name: 'apps',
  title: 'Argo CD applications',
  description:
    'Applications with sync and health, compact: apps that need attention in full, healthy ones by name. Filter by project, sync, health, name.',
  input: listInput({
    project: z.string().optional().describe('Only this project'),
    sync: z.enum(['any', 'Synced', 'OutOfSync', 'Unknown']).default('any'),
    health: z
      .enum(['any', 'Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'])
      .default('any'),
    name: z.string().optional().describe('Only names containing this text'),
  }),
  output: listOutput({
    total: z.number().describe('Apps after filters'),
    counts: z.record(z.string(), z.number()).describe('Apps per sync and per health status (after filters)'),
    columns: z.array(z.string()),
    apps: z.array(z.array(z.string())).describe('One row per app, in `columns` order'),
  }),
  effect: 'read',
  run: async (args, ctx) => {
    const list = pager('argocd_apps', ctx, args);
    const r = await ctx.client.api<{ items?: Application[] | null }>('GET', 'applications', {
      query: [
        ['fields', FIELDS],
        ...(args.project ? ([['projects', args.project]] as [string, string][]) : []),
      ],
      signal: ctx.signal,
    });
    const rows: Row[] = (r.items ?? [])
      .map(
        (a): Row => [
          a.metadata.name,
          a.spec?.project ?? '',
          a.status?.sync?.status ?? 'Unknown',
          a.status?.health?.status ?? 'Unknown',
          destination(a.spec?.destination),
        ],
      )
      .filter(
        ([n, , s, h]) =>
          (args.sync === 'any' || s === args.sync) &&
          (args.health === 'any' || h === args.health) &&
          (!args.name || n.includes(args.name)),
      )
      .sort((a, b) => a[0].localeCompare(b[0]));
    const counts: Record<string, number> = {};
    for (const [, , s, h] of rows) {
      counts[s] = (counts[s] ?? 0) + 1;
      counts[h] = (counts[h] ?? 0) + 1;
    }
    const fine = (x: Row) => x[2] === 'Synced' && x[3] === 'Healthy';
    return list.page({
      items: rows,
      line: (x) => (fine(x) ? `${x[0]}, ` : x.join('  ')),
      what: 'apps',
      narrow: 'project, sync, health or name',
      data: (page) => ({
        total: rows.length,
        counts,
        columns: ['name', 'project', 'sync', 'health', 'destination'],
        apps: page.items,
      }),
      text: (page, range) => {
        const attention = page.items.filter((x) => !fine(x));
        const ok = page.items.filter(fine).map((x) => x[0]);
        return [
          `${rows.length} apps${range}: ${Object.entries(counts)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
          ...attention.map((x) => x.join('  ')),
          ok.length > 0 && `Synced+Healthy: ${ok.join(', ')}`,
        ];
      },
    });
  },
});
