import { defineTool, maxBytesArg, table } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, contains, fitRows, notice, render } from './common.js';

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
    maxBytes: maxBytesArg,
  }),
  output: z.object({
    total: z.number(),
    omitted: z.number(),
    metrics: z.array(entry),
    truncated: z.boolean(),
  }),
  effect: 'read',
  run: async (args, ctx: Ctx) => {
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
    const line = (e: Entry) => `${e.metric} ${e.type} ${e.unit ?? ''} ${e.help}`;
    const fitted = fitRows(all, ctx.budget, line);
    const data = {
      total: all.length,
      omitted: fitted.omitted,
      metrics: fitted.items,
      truncated: fitted.omitted > 0,
    };
    const hasUnit = fitted.items.some((e) => e.unit);
    const text = render(
      [
        `${all.length} metric${all.length === 1 ? '' : 's'}${args.metric ? ` named ${args.metric}` : ''}${args.filter ? ` matching "${args.filter}"` : ''}`,
        all.length === 0 &&
          'no metadata (the metric may not exist, or the backend keeps no metadata); try label_values with label=__name__',
        fitted.items.length > 0 &&
          table(
            hasUnit ? ['metric', 'type', 'unit', 'help'] : ['metric', 'type', 'help'],
            fitted.items.map((e) =>
              hasUnit ? [e.metric, e.type, e.unit, e.help] : [e.metric, e.type, e.help],
            ),
          ),
        ...notice(fitted.omitted, 'metrics', 'filter or metric'),
      ],
      r.warnings,
      r.infos,
    );
    return { data, text, truncated: data.truncated };
  },
});
