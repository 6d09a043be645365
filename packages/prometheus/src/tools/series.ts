import { echo, fitNotes, listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { commonLabels, formatLabels, type Labels, withoutLabels } from '../summarize.js';
import { matchArg, optionalWindow, timeArg, tool } from './common.js';

export const seriesTool = tool({
  name: 'series',
  title: 'Find series',
  description:
    'List the series (label sets) matching selectors. Use before a query to see which labels exist.',
  input: listInput({
    match: matchArg,
    start: timeArg('Window start (default: recent data)'),
    end: timeArg('Window end (default now)'),
  }),
  output: listOutput({
    seriesCount: z.number(),
    commonLabels: z.record(z.string(), z.string()),
    series: z.array(z.record(z.string(), z.string())).describe('Labels not shared by every series'),
  }),
  effect: 'read',
  toolset: 'discover',
  run: async (args, ctx) => {
    const list = pager('series', ctx, args);
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
    // A stable order, so that pages follow each other.
    const rows = all
      .map((s) => withoutLabels(s, common))
      .map((s) => [formatLabels(s), s] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, s]) => s);
    const match = echo(args.match.join(', '), ctx.budget, 'match');
    const notes = fitNotes(r.warnings, r.infos, ctx.budget);
    return list.page({
      items: rows,
      line: formatLabels,
      what: 'series',
      narrow: 'more specific label matchers or start/end',
      data: (page) => ({
        seriesCount: all.length,
        commonLabels: common,
        series: page.items,
      }),
      text: (page, range) => [
        `${all.length} series match ${match.text}${range}`,
        Object.keys(common).length > 0 && `common labels: ${formatLabels(common)}`,
        ...page.items.map(formatLabels),
      ],
      notes: notes.lines,
    });
  },
});
