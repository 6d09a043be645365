import { defineTool, maxBytesArg } from '@infra-mcp/core';
import { z } from 'zod';
import { commonLabels, formatLabels, type Labels, withoutLabels } from '../summarize.js';
import { type Ctx, matchArg, optionalWindow, render, timeArg } from './common.js';
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

export const seriesTool = defineTool({
  name: 'series',
  title: 'Find series',
  description:
    'List the series (label sets) matching selectors. Use before a query to see which labels exist.',
  input: z.object({
    match: matchArg,
    start: timeArg('Window start (default: recent data)'),
    end: timeArg('Window end (default now)'),
    cursor: cursorArg,
    maxBytes: maxBytesArg,
  }),
  output: z.object({
    seriesCount: z.number(),
    omitted: z.number().describe('Series after this page'),
    commonLabels: z.record(z.string(), z.string()),
    series: z.array(z.record(z.string(), z.string())).describe('Labels not shared by every series'),
    offset: offsetSchema,
    nextCursor: nextCursorSchema,
    truncated: z.boolean(),
  }),
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    const fp = fingerprint('series', ctx.instance, args);
    const offset = readCursor(args.cursor, fp);
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
    const { data, text } = fitPage({
      items: rows,
      budget: ctx.budget,
      fingerprint: fp,
      offset,
      line: formatLabels,
      build: (page) => ({
        data: {
          seriesCount: all.length,
          omitted: page.omitted,
          commonLabels: common,
          series: page.items,
          ...pageFields(page),
          truncated: page.omitted > 0,
        },
        text: render(
          [
            `${all.length} series match ${match.text}${pageRange(page)}`,
            Object.keys(common).length > 0 && `common labels: ${formatLabels(common)}`,
            ...page.items.map(formatLabels),
            ...pageNotice(page, 'series', 'more specific label matchers or start/end'),
          ],
          notes.lines,
        ),
      }),
    });
    return { data, text, truncated: data.truncated };
  },
});
