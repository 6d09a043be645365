import { defineTool, maxBytesArg } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, fitRows, notice, optionalWindow, render, timeArg } from './common.js';

export const labelsTool = defineTool({
  name: 'labels',
  title: 'Label names',
  description: 'List label names, optionally only those on series matching selectors.',
  input: z.object({
    match: z.array(z.string().min(1)).optional().describe('Series selectors to restrict to, e.g. ["up"]'),
    start: timeArg('Window start'),
    end: timeArg('Window end'),
    maxBytes: maxBytesArg,
  }),
  output: z.object({
    labels: z.array(z.string()),
    count: z.number(),
    omitted: z.number(),
    truncated: z.boolean(),
  }),
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    const params: [string, string][] = [
      ...(args.match ?? []).map((m): [string, string] => ['match[]', m]),
      ...optionalWindow(args),
    ];
    const r = await ctx.client.api<string[]>('api/v1/labels', params, {
      signal: ctx.signal,
      post: true,
      query: args.match?.length === 1 ? args.match[0] : undefined,
    });
    const all = r.data ?? [];
    // ", " joins the names in the text: count it per name
    const fitted = fitRows(all, ctx.budget, (l) => `${l}, `);
    const data = {
      labels: fitted.items,
      count: all.length,
      omitted: fitted.omitted,
      truncated: fitted.omitted > 0,
    };
    const text = render(
      [
        `${all.length} label names${args.match ? ` on ${args.match.join(', ')}` : ''}:`,
        fitted.items.join(', '),
        ...notice(fitted.omitted, 'label names', 'match'),
      ],
      r.warnings,
      r.infos,
    );
    return { data, text, truncated: data.truncated };
  },
});
