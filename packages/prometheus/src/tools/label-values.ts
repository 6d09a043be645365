import { checkAllowed, defineTool, maxBytesArg, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, contains, optionalWindow, render, timeArg } from './common.js';
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
    cursor: cursorArg,
    maxBytes: maxBytesArg,
  }),
  output: z.object({
    label: z.string(),
    total: z.number().describe('Values after filter'),
    omitted: z.number().describe('Values after this page'),
    values: z.array(z.string()),
    offset: offsetSchema,
    nextCursor: nextCursorSchema,
    truncated: z.boolean(),
  }),
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(args.label)) {
      throw new ToolError(
        'bad_label',
        `"${echo(args.label, 1600).text}" is not a label name`,
        'label names match [a-zA-Z_][a-zA-Z0-9_]*; labels lists them',
      );
    }
    checkAllowed(ctx.client.config.allow, 'label', args.label, {
      where: `prometheus instance "${ctx.instance}"`,
      configKey: 'allow.label of this instance',
    });
    const fp = fingerprint('label_values', ctx.instance, args);
    const offset = readCursor(args.cursor, fp);
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
    const { data, text } = fitPage({
      items: values,
      budget: ctx.budget,
      fingerprint: fp,
      offset,
      line: (v) => v,
      build: (page) => ({
        data: {
          label: args.label,
          total: values.length,
          omitted: page.omitted,
          values: page.items,
          ...pageFields(page),
          truncated: page.omitted > 0,
        },
        text: render(
          [
            `${values.length} values of ${args.label}${filter ? ` containing "${filter.text}"` : ''}${match ? ` on ${match.text}` : ''}${pageRange(page)}`,
            page.items.length > 0 && page.items.join('\n'),
            ...pageNotice(page, 'values', 'filter or match'),
          ],
          notes.lines,
        ),
      }),
    });
    return { data, text, truncated: data.truncated };
  },
});
