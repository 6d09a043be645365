import { defineTool, maxBytesArg } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, optionalWindow, render, timeArg } from './common.js';
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

export const labelsTool = defineTool({
  name: 'labels',
  title: 'Label names',
  description: 'List label names, optionally only those on series matching selectors.',
  input: z.object({
    match: z.array(z.string().min(1)).optional().describe('Series selectors to restrict to, e.g. ["up"]'),
    start: timeArg('Window start'),
    end: timeArg('Window end'),
    cursor: cursorArg,
    maxBytes: maxBytesArg,
  }),
  output: z.object({
    labels: z.array(z.string()),
    count: z.number(),
    omitted: z.number().describe('Label names after this page'),
    offset: offsetSchema,
    nextCursor: nextCursorSchema,
    truncated: z.boolean(),
  }),
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    const fp = fingerprint('labels', ctx.instance, args);
    const offset = readCursor(args.cursor, fp);
    const params: [string, string][] = [
      ...(args.match ?? []).map((m): [string, string] => ['match[]', m]),
      ...optionalWindow(args),
    ];
    const r = await ctx.client.api<string[]>('api/v1/labels', params, {
      signal: ctx.signal,
      post: true,
      query: args.match?.length === 1 ? args.match[0] : undefined,
    });
    // sorted (Prometheus sorts them; other backends may not): pages must follow each other
    const all = [...(r.data ?? [])].sort();
    const match = args.match ? echo(args.match.join(', '), ctx.budget, 'match') : undefined;
    const notes = fitNotes(r.warnings, r.infos, ctx.budget);
    const { data, text } = fitPage({
      items: all,
      budget: ctx.budget,
      fingerprint: fp,
      offset,
      // ", " joins the names in the text: count it per name
      line: (l) => `${l}, `,
      build: (page) => ({
        data: {
          labels: page.items,
          count: all.length,
          omitted: page.omitted,
          ...pageFields(page),
          truncated: page.omitted > 0,
        },
        text: render(
          [
            `${all.length} label names${match ? ` on ${match.text}` : ''}${pageRange(page)}:`,
            page.items.join(', '),
            ...pageNotice(page, 'label names', 'match'),
          ],
          notes.lines,
        ),
      }),
    });
    return { data, text, truncated: data.truncated };
  },
});
