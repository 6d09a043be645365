import {
  type Answer,
  answerBytes,
  byteLength,
  echo,
  fitNotes,
  fitPage,
  maxBytesArg,
  noteFields,
  type Page,
  pageNotice,
  ToolError,
  table,
} from '@infra-mcp/core';
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
import {
  type Ctx,
  queryBytesSchema,
  queryEchoSchema,
  render,
  timeArg,
  tool,
  warningsOmittedSchema,
  warningsSchema,
} from './common.js';

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
  query: queryEchoSchema,
  queryBytes: queryBytesSchema,
  start: z.string(),
  end: z.string(),
  step: z.number().describe('Seconds'),
  format: z.enum(['summary', 'points']),
  seriesCount: z.number(),
  omitted: z.number().describe('Series left out to fit the budget'),
  commonLabels: labelsSchema,
  series: z.array(seriesSummarySchema),
  warnings: warningsSchema,
  warningsOmitted: warningsOmittedSchema,
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
    `${echo(query, 1600).text} matches ${count} series; this instance returns at most ${limit} per range query`,
    `narrow it: add label matchers, aggregate (sum by (job) (...)) or keep the top ones (topk(10, ...))`,
  );
}

export interface ShapedMatrix {
  format: 'summary' | 'points';
  step: number;
  /** Labels every series shares (factored out of the rows). */
  common: Labels;
  /** Every series, largest `stat` first; format=points: with all values on the step grid. */
  rows: Row[];
  /** Sparkline of each summary row (text only). */
  shapes: Map<Row, string>;
}

/** Summaries (or points) of matrix series, sorted by `stat`. {@link fitMatrix} fits them into a budget. */
export function shapeMatrix(
  series: MatrixSeries[],
  opts: { start: number; end: number; step: number; format: 'summary' | 'points'; stat: Stat },
): ShapedMatrix {
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
    rows = order.map(([s, i]) => {
      const values = new Array<number | null>(grid).fill(null);
      for (const [t, raw] of series[i]!.values ?? []) {
        const k = Math.round((t - opts.start) / opts.step);
        const v = parseValue(raw);
        if (k >= 0 && k < grid) values[k] = Number.isFinite(v) ? v : null;
      }
      return { ...s, values };
    });
  }
  return { format: opts.format, step: opts.step, common, rows, shapes };
}

const pointsLine = (r: Row) =>
  `${formatLabels(r.labels)}: ${r.values!.map((v) => (v === null ? '_' : String(v))).join(' ')}`;

const summaryCells = (m: ShapedMatrix, r: Row) => [
  formatLabels(r.labels),
  num(r.first),
  num(r.last),
  num(r.min),
  num(r.max),
  num(r.avg),
  m.shapes.get(r) ?? '',
];

/** Text of the kept rows: shared labels, then a table (summary) or one line per series (points). */
export function matrixLines(m: ShapedMatrix, rows: Row[]): string[] {
  const lines: string[] = [];
  if (Object.keys(m.common).length) lines.push(`common labels: ${formatLabels(m.common)}`);
  if (m.format === 'points') {
    if (rows.length) {
      const stride = rows[0]?.stride ?? 1;
      lines.push(`values at start + i*${formatDuration(m.step * stride)} (_ = no sample)`);
      for (const r of rows) lines.push(pointsLine(r));
    }
  } else if (rows.length) {
    lines.push(
      table(
        ['series', 'first', 'last', 'min', 'max', 'avg', 'shape'],
        rows.map((r) => summaryCells(m, r)),
      ),
    );
  }
  return lines;
}

/**
 * format=points: keep every stride-th value of every series, the smallest stride with which each
 * series fits in `avail` bytes on its own (structured values plus their text line).
 */
function thin(rows: Row[], avail: number): Row[] {
  const cost = (r: Row) => byteLength(JSON.stringify(r)) + byteLength(pointsLine(r)) + 2;
  const biggest = (list: Row[]) => {
    let max = 0;
    for (const r of list) max = Math.max(max, cost(r));
    return max;
  };
  const full = biggest(rows);
  if (full <= avail) return rows;
  let grid = 0;
  for (const r of rows) grid = Math.max(grid, r.values?.length ?? 0);
  let stride = Math.max(2, Math.ceil(full / avail));
  for (;;) {
    const s = stride;
    const thinned = rows.map((r) => ({ ...r, values: r.values!.filter((_, k) => k % s === 0), stride: s }));
    const max = biggest(thinned);
    if (max <= avail || stride >= grid) return thinned;
    stride = Math.max(stride + 1, Math.ceil((stride * max) / avail));
  }
}

/**
 * Fit the rows of a shaped matrix into the budget with the tool's fixed parts (`build` makes the
 * whole answer for a page; `lines` is the text of the kept rows).
 */
export function fitMatrix<D>(
  m: ShapedMatrix,
  budget: number,
  build: (page: Page<Row>, lines: string[]) => Answer<D>,
): Answer<D> & { page: Page<Row> } {
  let rows = m.rows;
  if (m.format === 'points' && rows.length > 0) {
    const none: Page<Row> = {
      items: [],
      offset: 0,
      total: rows.length,
      omitted: rows.length,
      more: true,
      budget,
      keep: 'head',
    };
    const fixed = answerBytes(build(none, matrixLines(m, [])));
    // what is left for one series, less the "values at start + i*..." line the rows bring
    rows = thin(rows, Math.max(budget - fixed - 48 - 64, 64));
  }
  return fitPage({
    items: rows,
    budget,
    line: (r) => (m.format === 'points' ? pointsLine(r) : summaryCells(m, r).join('  ')),
    build: (page) => build(page, matrixLines(m, page.items)),
  });
}

export const queryRangeTool = tool({
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
  toolset: 'query',
  run: async (args, ctx) => {
    const { config } = ctx.client;
    const range = resolveRange(args, { maxRange: parseDuration(config.maxRange)! });
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
    const shaped = shapeMatrix(series, { ...range, format: args.format, stat: args.sortBy });
    const q = echo(args.query, ctx.budget);
    const notes = fitNotes(r.warnings, r.infos, ctx.budget);
    const start = isoTime(range.start);
    const end = isoTime(range.end);
    const head = `${q.text} · ${series.length} series · ${start} → ${end} · step ${formatDuration(range.step)}${range.autoStep ? ' (auto)' : ''}`;
    const { data, text } = fitMatrix(shaped, ctx.budget, (page, lines) => {
      const data: RangeOutput = {
        query: q.text,
        ...(q.abbreviated ? { queryBytes: q.bytes } : {}),
        start,
        end,
        step: range.step,
        format: args.format,
        seriesCount: series.length,
        omitted: page.omitted,
        commonLabels: shaped.common,
        series: page.items,
        ...noteFields(notes),
        truncated: page.omitted > 0,
      };
      const text = render(
        [
          head,
          series.length === 0 && 'no data in this range',
          ...lines,
          ...pageNotice(page, 'series', 'label matchers, sum by (...) or topk()'),
        ],
        notes.lines,
      );
      return { data, text };
    });
    return { data, text, truncated: data.truncated };
  },
});
