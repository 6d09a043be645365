import { defineTool, maxBytesArg, ToolError, table } from '@infra-mcp/core';
import { z } from 'zod';
import {
  byStat,
  commonLabels,
  formatLabels,
  type Labels,
  type MatrixSeries,
  num,
  parseValue,
  type Stat,
  summarizeSeries,
} from '../summarize.js';
import { formatDuration, isoTime, parseDuration, resolveRange } from '../time.js';
import { type Ctx, fitRows, notice, render, timeArg, warningsSchema } from './common.js';

const labelsSchema = z.record(z.string(), z.string());

export const seriesSummarySchema = z.object({
  labels: labelsSchema.describe('Labels not shared by every series'),
  points: z.number(),
  first: z.number().nullable(),
  last: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  avg: z.number().nullable(),
  nonFinite: z.number().optional(),
  values: z
    .array(z.number().nullable())
    .optional()
    .describe('format=points: value at start + i*step*stride (null: no sample or NaN/Inf)'),
  stride: z.number().optional().describe('format=points: every stride-th point kept to fit the budget'),
});

export const rangeOutput = z.object({
  query: z.string(),
  start: z.string(),
  end: z.string(),
  step: z.number().describe('Seconds'),
  format: z.enum(['summary', 'points']),
  seriesCount: z.number(),
  omitted: z.number().describe('Series left out to fit the budget'),
  commonLabels: labelsSchema,
  series: z.array(seriesSummarySchema),
  warnings: warningsSchema,
  truncated: z.boolean(),
});

type RangeOutput = z.infer<typeof rangeOutput>;
type Row = z.infer<typeof seriesSummarySchema>;

/** Characters of the sparkline. */
const SHAPE_WIDTH = 16;

/** Instant `count()` of the query at `time`: how many series a range query would return (undefined when not countable). */
export async function countSeries(ctx: Ctx, query: string, time: number): Promise<number | undefined> {
  try {
    const r = await ctx.client.api<{ resultType: string; result: any }>(
      'api/v1/query',
      [
        ['query', `count((${query}))`],
        ['time', String(time)],
      ],
      { signal: ctx.signal, post: true },
    );
    if (r.data.resultType !== 'vector') return undefined;
    return r.data.result.length ? Number(r.data.result[0].value[1]) : 0;
  } catch (err) {
    // Not countable (scalar, parse error): the range query itself reports what is wrong.
    if (['bad_query', 'bad_request', 'query_failed'].includes((err as ToolError).code)) return undefined;
    throw err;
  }
}

export function tooManySeries(count: number, limit: number, query: string): ToolError {
  return new ToolError(
    'too_many_series',
    `${query} matches ${count} series; this instance returns at most ${limit} per range query`,
    `narrow it: add label matchers, aggregate (sum by (job) (...)) or keep the top ones (topk(10, ...))`,
  );
}

/** Summaries (or points) of matrix series, sorted by `stat`, fitted to the budget. */
export function shapeMatrix(
  series: MatrixSeries[],
  opts: {
    start: number;
    end: number;
    step: number;
    format: 'summary' | 'points';
    stat: Stat;
    budget: number;
  },
): { common: Labels; rows: Row[]; omitted: number; lines: string[] } {
  const common = commonLabels(series.map((s) => s.metric));
  // One sparkline character per grid point at most: wider would show gaps between samples.
  const grid = Math.floor((opts.end - opts.start) / opts.step) + 1;
  const width = Math.max(1, Math.min(SHAPE_WIDTH, grid));
  // The sparkline is for the text rendering only: structured data keeps the numbers.
  const shapes = new Map<Row, string>();
  const summaries: Row[] = series.map((s) => {
    const { shape, ...row } = summarizeSeries(s, common, opts.start, opts.end + opts.step, width);
    shapes.set(row, shape);
    return row;
  });
  const order = summaries.map((s, i) => [s, i] as const).sort((a, b) => byStat(opts.stat)(a[0], b[0]));
  let rows: Row[] = order.map(([s]) => s);
  if (opts.format === 'points') {
    const full = order.map(([s, i]) => {
      const values = new Array<number | null>(grid).fill(null);
      for (const [t, raw] of series[i]!.values ?? []) {
        const k = Math.round((t - opts.start) / opts.step);
        const v = parseValue(raw);
        if (k >= 0 && k < grid) values[k] = Number.isFinite(v) ? v : null;
      }
      return { ...s, values };
    });
    const biggest = Math.max(0, ...full.map((r) => JSON.stringify(r).length * 2));
    const stride = Math.max(1, Math.ceil(biggest / Math.max(opts.budget - 800, 256)));
    rows =
      stride === 1
        ? full
        : full.map((r) => ({ ...r, values: r.values!.filter((_, k) => k % stride === 0), stride }));
  }
  const cells = (r: Row) => [
    formatLabels(r.labels),
    num(r.first),
    num(r.last),
    num(r.min),
    num(r.max),
    num(r.avg),
    shapes.get(r) ?? '',
  ];
  // Column widths over all rows: an upper bound of the table row each kept series costs.
  const widths =
    opts.format === 'summary'
      ? [0, 1, 2, 3, 4, 5].map((i) => Math.max(...rows.map((r) => cells(r)[i]!.length)))
      : [];
  const line = (r: Row) =>
    opts.format === 'points'
      ? `${formatLabels(r.labels)}: ${r.values!.map((v) => (v === null ? '_' : String(v))).join(' ')}`
      : cells(r)
          .map((c, i) => (i < widths.length ? c!.padEnd(widths[i]!) : c))
          .join('  ');
  const fitted = fitRows(rows, opts.budget, line);
  const lines: string[] = [];
  if (Object.keys(common).length) lines.push(`common labels: ${formatLabels(common)}`);
  if (opts.format === 'points') {
    const stride = fitted.items[0]?.stride ?? 1;
    lines.push(`values at start + i*${formatDuration(opts.step * stride)} (_ = no sample)`);
    lines.push(...fitted.items.map(line));
  } else if (fitted.items.length) {
    lines.push(table(['series', 'first', 'last', 'min', 'max', 'avg', 'shape'], fitted.items.map(cells)));
  }
  lines.push(...notice(fitted.omitted, 'series', 'label matchers, sum by (...) or topk()'));
  return { common, rows: fitted.items, omitted: fitted.omitted, lines };
}

export const queryRangeTool = defineTool({
  name: 'query_range',
  title: 'PromQL range query',
  description:
    'Run a PromQL query over a time range. Default answer: per-series first/last/min/max/avg and a sparkline; format=points gives values. Step is chosen (~250 points) when omitted.',
  input: z.object({
    query: z.string().min(1).describe('PromQL expression'),
    start: timeArg('Range start (default end-1h)'),
    end: timeArg('Range end (default now)'),
    step: z
      .union([z.string(), z.number()])
      .optional()
      .describe('Resolution: seconds or a duration (15s, 1m); default ~250 points'),
    format: z.enum(['summary', 'points']).default('summary').describe('summary (default) or points'),
    sortBy: z
      .enum(['max', 'avg', 'last', 'min'])
      .default('max')
      .describe('Statistic ranking the series (largest first)'),
    maxBytes: maxBytesArg,
  }),
  output: rangeOutput,
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    const { config } = ctx.client;
    const range = resolveRange(args, { maxRange: parseDuration(config.maxRange) ?? 31 * 86400 });
    const count = await countSeries(ctx, args.query, range.end);
    if (count !== undefined && count > config.maxSeries)
      throw tooManySeries(count, config.maxSeries, args.query);
    const r = await ctx.client.api<{ resultType: string; result: MatrixSeries[] }>(
      'api/v1/query_range',
      [
        ['query', args.query],
        ['start', String(range.start)],
        ['end', String(range.end)],
        ['step', String(range.step)],
        ['timeout', `${Math.max(1, Math.floor(config.timeoutMs / 1000))}s`],
      ],
      { signal: ctx.signal, post: true, query: args.query },
    );
    const series = r.data.result ?? [];
    if (series.length > config.maxSeries) throw tooManySeries(series.length, config.maxSeries, args.query);
    const shaped = shapeMatrix(series, {
      ...range,
      format: args.format,
      stat: args.sortBy,
      budget: ctx.budget,
    });
    const data: RangeOutput = {
      query: args.query,
      start: isoTime(range.start),
      end: isoTime(range.end),
      step: range.step,
      format: args.format,
      seriesCount: series.length,
      omitted: shaped.omitted,
      commonLabels: shaped.common,
      series: shaped.rows,
      warnings: [...r.warnings, ...r.infos],
      truncated: shaped.omitted > 0,
    };
    const head = `${args.query} · ${series.length} series · ${data.start} → ${data.end} · step ${formatDuration(range.step)}${range.autoStep ? ' (auto)' : ''}`;
    const text = render(
      [head, series.length === 0 && 'no data in this range', ...shaped.lines],
      r.warnings,
      r.infos,
    );
    return { data, text, truncated: data.truncated };
  },
});
