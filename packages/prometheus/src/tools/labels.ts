import { echo, fitNotes, listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { optionalWindow, timeArg, tool } from './common.js';

export const labelsTool = tool({
  name: 'labels',
  title: 'Label names',
  description: 'List label names, optionally only those on series matching selectors.',
  input: listInput({
    match: z.array(z.string().min(1)).optional().describe('Series selectors to restrict to, e.g. ["up"]'),
    start: timeArg('Window start'),
    end: timeArg('Window end'),
  }),
  output: listOutput({
    labels: z.array(z.string()),
    count: z.number(),
  }),
  effect: 'read',
  toolset: 'discover',
  run: async (args, ctx) => {
    const list = pager('labels', ctx, args);
    const params: [string, string][] = [
      ...(args.match ?? []).map((m): [string, string] => ['match[]', m]),
      ...optionalWindow(args),
    ];
    const r = await ctx.client.api<string[]>('api/v1/labels', params, {
      signal: ctx.signal,
      post: true,
      cache: true,
      query: args.match?.length === 1 ? args.match[0] : undefined,
    });
    // sorted (Prometheus sorts them; other backends may not): pages must follow each other
    const all = [...(r.data ?? [])].sort();
    const match = args.match ? echo(args.match.join(', '), ctx.budget, 'match') : undefined;
    const notes = fitNotes(r.warnings, r.infos, ctx.budget);
    return list.page({
      items: all,
      // ", " joins the names in the text: count it per name
      line: (l) => `${l}, `,
      what: 'label names',
      narrow: 'match',
      data: (page) => ({ labels: page.items, count: all.length }),
      text: (page, range) => [
        `${all.length} label names${match ? ` on ${match.text}` : ''}${range}:`,
        page.items.join(', '),
      ],
      notes: notes.lines,
    });
  },
});
