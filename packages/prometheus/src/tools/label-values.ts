import { defineTool, maxBytesArg, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, contains, fitRows, notice, optionalWindow, render, timeArg } from './common.js';

export const labelValuesTool = defineTool({
  name: 'label_values',
  title: 'Label values',
  description:
    'List the values of one label (label=__name__ lists metric names). filter narrows by substring.',
  input: z.object({
    label: z.string().min(1).describe('Label name, e.g. job, or __name__ for metric names'),
    filter: z.string().optional().describe('Case-insensitive substring the values must contain'),
    match: z.array(z.string().min(1)).optional().describe('Only values on series matching these selectors'),
    start: timeArg('Window start'),
    end: timeArg('Window end'),
    maxBytes: maxBytesArg,
  }),
  output: z.object({
    label: z.string(),
    total: z.number().describe('Values after filter'),
    omitted: z.number(),
    values: z.array(z.string()),
    truncated: z.boolean(),
  }),
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(args.label)) {
      throw new ToolError(
        'bad_label',
        `"${args.label}" is not a label name`,
        'label names match [a-zA-Z_][a-zA-Z0-9_]*; labels lists them',
      );
    }
    const params: [string, string][] = [
      ...(args.match ?? []).map((m): [string, string] => ['match[]', m]),
      ...optionalWindow(args),
    ];
    // Prometheus serves label values on GET only.
    const r = await ctx.client.api<string[]>(
      `api/v1/label/${encodeURIComponent(args.label)}/values`,
      params,
      {
        signal: ctx.signal,
        query: args.match?.length === 1 ? args.match[0] : undefined,
      },
    );
    const values = (r.data ?? []).filter((v) => contains(v, args.filter));
    const fitted = fitRows(values, ctx.budget, (v) => v);
    const data = {
      label: args.label,
      total: values.length,
      omitted: fitted.omitted,
      values: fitted.items,
      truncated: fitted.omitted > 0,
    };
    const text = render(
      [
        `${values.length} values of ${args.label}${args.filter ? ` containing "${args.filter}"` : ''}${args.match ? ` on ${args.match.join(', ')}` : ''}`,
        fitted.items.join('\n'),
        ...notice(fitted.omitted, 'values', 'filter or match'),
      ],
      r.warnings,
      r.infos,
    );
    return { data, text, truncated: data.truncated };
  },
});
