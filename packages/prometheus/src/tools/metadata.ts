import { echo, fitNotes, listInput, listOutput, pager, table } from '@infra-mcp/core';
import { z } from 'zod';
import { contains, tool } from './common.js';

const entry = z.object({
  metric: z.string(),
  type: z.string(),
  unit: z.string().optional(),
  help: z.string(),
});
type Entry = z.infer<typeof entry>;

export const metadataTool = tool({
  name: 'metadata',
  title: 'Metric metadata',
  description:
    'Type (counter, gauge, histogram, summary), unit and help text of metrics, from the scrape targets.',
  input: listInput({
    metric: z.string().optional().describe('Exact metric name'),
    filter: z.string().optional().describe('Case-insensitive substring of the metric name or help'),
  }),
  output: listOutput({
    total: z.number(),
    metrics: z.array(entry),
  }),
  effect: 'read',
  toolset: 'discover',
  run: async (args, ctx) => {
    const list = pager('metadata', ctx, args);
    const params: [string, string][] = args.metric ? [['metric', args.metric]] : [];
    const r = await ctx.client.api<Record<string, { type: string; help: string; unit?: string }[]>>(
      'api/v1/metadata',
      params,
      { signal: ctx.signal, cache: true },
    );
    const all: Entry[] = Object.entries(r.data ?? {})
      .map(([metric, list]) => ({
        metric,
        type: list[0]?.type ?? 'unknown',
        ...(list[0]?.unit ? { unit: list[0].unit } : {}),
        help: list[0]?.help ?? '',
      }))
      .filter((e) => contains(`${e.metric} ${e.help}`, args.filter))
      .sort((a, b) => a.metric.localeCompare(b.metric));
    const line = (e: Entry) => `${e.metric}  ${e.type}  ${e.unit ?? ''}  ${e.help}`;
    const metric = args.metric === undefined ? undefined : echo(args.metric, ctx.budget, 'metric');
    const filter = args.filter === undefined ? undefined : echo(args.filter, ctx.budget, 'filter');
    const notes = fitNotes(r.warnings, r.infos, ctx.budget);
    return list.page({
      items: all,
      line,
      what: 'metrics',
      narrow: 'filter or metric',
      data: (page) => ({ total: all.length, metrics: page.items }),
      text: (page, range) => {
        const hasUnit = page.items.some((e) => e.unit);
        return [
          `${all.length} metric${all.length === 1 ? '' : 's'}${metric ? ` named ${metric.text}` : ''}${filter ? ` matching "${filter.text}"` : ''}${range}`,
          all.length === 0 &&
            'no metadata (the metric may not exist, or the backend keeps no metadata); try label_values with label=__name__',
          page.items.length > 0 &&
            table(
              hasUnit ? ['metric', 'type', 'unit', 'help'] : ['metric', 'type', 'help'],
              page.items.map((e) =>
                hasUnit ? [e.metric, e.type, e.unit, e.help] : [e.metric, e.type, e.help],
              ),
            ),
        ];
      },
      notes: notes.lines,
    });
  },
});
