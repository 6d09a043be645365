import { defineTool } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, optionalWindow, render, timeArg } from './common.js';

export const labelsTool = defineTool({
  name: 'labels',
  title: 'Label names',
  description: 'List label names, optionally only those on series matching selectors.',
  input: z.object({
    match: z.array(z.string().min(1)).optional().describe('Series selectors to restrict to, e.g. ["up"]'),
    start: timeArg('Window start'),
    end: timeArg('Window end'),
  }),
  output: z.object({ labels: z.array(z.string()), count: z.number() }),
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
    const labels = r.data ?? [];
    const text = render(
      [`${labels.length} label names${args.match ? ` on ${args.match.join(', ')}` : ''}:`, labels.join(', ')],
      r.warnings,
      r.infos,
    );
    return { data: { labels, count: labels.length }, text };
  },
});
