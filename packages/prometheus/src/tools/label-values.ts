import { checkAllowed, echo, fitNotes, listInput, listOutput, pager, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { contains, optionalWindow, timeArg, tool } from './common.js';

export const labelValuesTool = tool({
  name: 'label_values',
  title: 'Label values',
  description:
    'List the values of one label (label=__name__ lists metric names). filter narrows by substring.',
  input: listInput({
    label: z.string().min(1).describe('Label name, e.g. job, or __name__ for metric names'),
    filter: z.string().optional().describe('Case-insensitive substring the values must contain'),
    match: z.array(z.string().min(1)).optional().describe('Only values on series matching these selectors'),
    start: timeArg('Window start'),
    end: timeArg('Window end'),
  }),
  output: listOutput({
    label: z.string(),
    total: z.number().describe('Values after filter'),
    values: z.array(z.string()),
  }),
  effect: 'read',
  toolset: 'discover',
  run: async (args, ctx) => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(args.label)) {
      throw new ToolError(
        'bad_label',
        `"${echo(args.label, 1600).text}" is not a label name`,
        'label names match [a-zA-Z_][a-zA-Z0-9_]*; labels lists them',
      );
    }
    checkAllowed(ctx.config.allow, 'label', args.label, {
      where: `prometheus instance "${ctx.instance}"`,
      configKey: 'allow.label of this instance',
    });
    const list = pager('label_values', ctx, args);
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
    // sorted (Prometheus sorts them; other backends may not): pages must follow each other
    const values = (r.data ?? []).filter((v) => contains(v, args.filter)).sort();
    const filter = args.filter === undefined ? undefined : echo(args.filter, ctx.budget, 'filter');
    const match = args.match ? echo(args.match.join(', '), ctx.budget, 'match') : undefined;
    const notes = fitNotes(r.warnings, r.infos, ctx.budget);
    return list.page({
      items: values,
      line: (v) => v,
      what: 'values',
      narrow: 'filter or match',
      data: (page) => ({
        label: args.label,
        total: values.length,
        values: page.items,
      }),
      text: (page, range) => [
        `${values.length} values of ${args.label}${filter ? ` containing "${filter.text}"` : ''}${match ? ` on ${match.text}` : ''}${range}`,
        page.items.length > 0 && page.items.join('\n'),
      ],
      notes: notes.lines,
    });
  },
});
