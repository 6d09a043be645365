import { defineTool, maxBytesArg } from '@infra-mcp/core';
import { z } from 'zod';
import { commonLabels, formatLabels, type Labels, withoutLabels } from '../summarize.js';
import { type Ctx, fitRows, matchArg, notice, optionalWindow, render, timeArg } from './common.js';

export const seriesTool = defineTool({
  name: 'series',
  title: 'Find series',
  description:
    'List the series (label sets) matching selectors. Use before a query to see which labels exist.',
  input: z.object({
    match: matchArg,
    start: timeArg('Window start (default: recent data)'),
    end: timeArg('Window end (default now)'),
    maxBytes: maxBytesArg,
  }),
  output: z.object({
    seriesCount: z.number(),
    omitted: z.number(),
    commonLabels: z.record(z.string(), z.string()),
    series: z.array(z.record(z.string(), z.string())).describe('Labels not shared by every series'),
    truncated: z.boolean(),
  }),
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    const params: [string, string][] = [
      ...args.match.map((m): [string, string] => ['match[]', m]),
      ...optionalWindow(args),
    ];
    const r = await ctx.client.api<Labels[]>('api/v1/series', params, {
      signal: ctx.signal,
      post: true,
      query: args.match.length === 1 ? args.match[0] : undefined,
    });
    const all = r.data ?? [];
    const common = commonLabels(all);
    const rows = all.map((s) => withoutLabels(s, common));
    const fitted = fitRows(rows, ctx.budget, formatLabels);
    const data = {
      seriesCount: all.length,
      omitted: fitted.omitted,
      commonLabels: common,
      series: fitted.items,
      truncated: fitted.omitted > 0,
    };
    const text = render(
      [
        `${all.length} series match ${args.match.join(', ')}`,
        Object.keys(common).length > 0 && `common labels: ${formatLabels(common)}`,
        ...fitted.items.map(formatLabels),
        ...notice(fitted.omitted, 'series', 'more specific label matchers'),
      ],
      r.warnings,
      r.infos,
    );
    return { data, text, truncated: data.truncated };
  },
});
