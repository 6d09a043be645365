import { defineTool, maxBytesArg, table } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, contains, render } from './common.js';
import {
  cursorArg,
  echo,
  fingerprint,
  fitNotes,
  fitPage,
  nextCursorSchema,
  offsetSchema,
  pageFields,
  pageNotice,
  pageRange,
  readCursor,
} from './fit.js';

const entry = z.object({
  metric: z.string(),
  type: z.string(),
  unit: z.string().optional(),
  help: z.string(),
});
type Entry = z.infer<typeof entry>;

export const metadataTool = defineTool({
  name: 'metadata',
  title: 'Metric metadata',
  description:
    'Type (counter, gauge, histogram, summary), unit and help text of metrics, from the scrape targets.',
  input: z.object({
    metric: z.string().optional().describe('Exact metric name'),
    filter: z.string().optional().describe('Case-insensitive substring of the metric name or help'),
    cursor: cursorArg,
    maxBytes: maxBytesArg,
  }),
  output: z.object({
    total: z.number(),
    omitted: z.number().describe('Metrics after this page'),
    metrics: z.array(entry),
    offset: offsetSchema,
    nextCursor: nextCursorSchema,
    truncated: z.boolean(),
  }),
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    const fp = fingerprint('metadata', ctx.instance, args);
    const offset = readCursor(args.cursor, fp);
    const params: [string, string][] = args.metric ? [['metric', args.metric]] : [];
    const r = await ctx.client.api<Record<string, { type: string; help: string; unit?: string }[]>>(
      'api/v1/metadata',
      params,
      { signal: ctx.signal },
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
    const { data, text } = fitPage({
      items: all,
      budget: ctx.budget,
      fingerprint: fp,
      offset,
      line,
      build: (page) => {
        const hasUnit = page.items.some((e) => e.unit);
        const data = {
          total: all.length,
          omitted: page.omitted,
          metrics: page.items,
          ...pageFields(page),
          truncated: page.omitted > 0,
        };
        const text = render(
          [
            `${all.length} metric${all.length === 1 ? '' : 's'}${metric ? ` named ${metric.text}` : ''}${filter ? ` matching "${filter.text}"` : ''}${pageRange(page)}`,
            all.length === 0 &&
              'no metadata (the metric may not exist, or the backend keeps no metadata); try label_values with label=__name__',
            page.items.length > 0 &&
              table(
                hasUnit ? ['metric', 'type', 'unit', 'help'] : ['metric', 'type', 'help'],
                page.items.map((e) =>
                  hasUnit ? [e.metric, e.type, e.unit, e.help] : [e.metric, e.type, e.help],
                ),
              ),
            ...pageNotice(page, 'metrics', 'filter or metric'),
          ],
          notes.lines,
        );
        return { data, text };
      },
    });
    return { data, text, truncated: data.truncated };
  },
});
