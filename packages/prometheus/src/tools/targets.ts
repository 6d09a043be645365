import { humanDuration, listInput, listOutput, pager, table } from '@infra-mcp/core';
import { z } from 'zod';
import { contains, tool } from './common.js';

const target = z.object({
  job: z.string(),
  instance: z.string(),
  health: z.string().describe('up, down or unknown'),
  lastScrapeAgo: z.number().nullable().describe('Seconds since the last scrape'),
  scrapeDuration: z.number().nullable().describe('Seconds'),
  scrapeInterval: z.string().optional(),
  lastError: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional().describe('Target labels besides job and instance'),
});
type Target = z.infer<typeof target>;

const dropped = z.object({ job: z.string(), address: z.string() });

export const targetsTool = tool({
  name: 'targets',
  title: 'Scrape targets',
  description:
    'Scrape targets with health, last scrape and last error. Filter by health and job; state=dropped lists targets relabelling dropped.',
  input: listInput({
    health: z.enum(['any', 'up', 'down', 'unknown']).default('any').describe('Only targets in this health'),
    job: z.string().optional().describe('Job (scrape pool): case-insensitive substring'),
    state: z.enum(['active', 'dropped']).default('active'),
  }),
  output: listOutput({
    counts: z.record(z.string(), z.number()).describe('Active targets per health (before filters)'),
    total: z.number().describe('Targets after filters'),
    targets: z.array(target).optional(),
    dropped: z.array(dropped).optional(),
  }),
  effect: 'read',
  toolset: 'status',
  run: async (args, ctx) => {
    const list = pager('targets', ctx, args);
    const r = await ctx.client.api<{ activeTargets?: any[]; droppedTargets?: any[] }>(
      'api/v1/targets',
      [['state', args.state]],
      {
        signal: ctx.signal,
      },
    );
    const now = Date.now();
    if (args.state === 'dropped') {
      const all = (r.data.droppedTargets ?? [])
        .map((t) => ({
          job: String(t.discoveredLabels?.job ?? ''),
          address: String(t.discoveredLabels?.__address__ ?? ''),
        }))
        .filter((t) => contains(t.job, args.job))
        .sort((a, b) => a.job.localeCompare(b.job) || a.address.localeCompare(b.address));
      return list.page({
        items: all,
        line: (t) => `${t.job}  ${t.address}`,
        what: 'targets',
        narrow: 'job',
        data: (page) => ({
          counts: {},
          total: all.length,
          dropped: page.items,
        }),
        text: (page, range) => [
          `${all.length} dropped targets${range}`,
          page.items.length > 0 &&
            table(
              ['job', 'address'],
              page.items.map((t) => [t.job, t.address]),
            ),
        ],
      });
    }
    const active = r.data.activeTargets ?? [];
    const counts: Record<string, number> = {};
    for (const t of active) counts[t.health] = (counts[t.health] ?? 0) + 1;
    const all: Target[] = active
      .filter(
        (t) =>
          (args.health === 'any' || t.health === args.health) &&
          contains(String(t.scrapePool ?? t.labels?.job ?? ''), args.job),
      )
      .map((t) => {
        const { job, instance, ...labels } = (t.labels ?? {}) as Record<string, string>;
        const last = t.lastScrape ? Date.parse(t.lastScrape) : Number.NaN;
        const row: Target = {
          job: String(t.scrapePool ?? job ?? ''),
          instance: instance ?? String(t.scrapeUrl ?? ''),
          health: String(t.health),
          lastScrapeAgo: Number.isFinite(last) && last > 0 ? Math.max(0, (now - last) / 1000) : null,
          scrapeDuration: typeof t.lastScrapeDuration === 'number' ? t.lastScrapeDuration : null,
        };
        if (t.scrapeInterval) row.scrapeInterval = t.scrapeInterval;
        if (t.lastError) row.lastError = t.lastError;
        if (Object.keys(labels).length) row.labels = labels;
        return row;
      })
      // problems first, then by job and instance
      .sort(
        (a, b) =>
          Number(a.health === 'up') - Number(b.health === 'up') ||
          a.job.localeCompare(b.job) ||
          a.instance.localeCompare(b.instance),
      );
    const cells = (t: Target) => [
      t.job,
      t.instance,
      t.health,
      t.lastScrapeAgo === null ? 'never' : `${humanDuration(t.lastScrapeAgo)} ago`,
      t.scrapeDuration === null ? '-' : humanDuration(t.scrapeDuration),
      t.lastError,
    ];
    const summary = Object.entries(counts)
      .map(([h, n]) => `${n} ${h}`)
      .join(', ');
    return list.page({
      items: all,
      line: (t) => cells(t).join('  '),
      what: 'targets',
      narrow: 'health or job',
      data: (page) => ({
        counts,
        total: all.length,
        targets: page.items,
      }),
      text: (page, range) => [
        `${active.length} active targets: ${summary || 'none'}${all.length !== active.length ? ` (${all.length} shown by filter)` : ''}${range}`,
        page.items.length > 0 &&
          table(['job', 'instance', 'health', 'last scrape', 'took', 'error'], page.items.map(cells)),
      ],
    });
  },
});
