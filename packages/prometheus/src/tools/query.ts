import { defineTool, maxBytesArg, table } from '@infra-mcp/core';
import { z } from 'zod';
import {
  commonLabels,
  formatLabels,
  type Labels,
  type MatrixSeries,
  num,
  parseValue,
  type Sample,
  withoutLabels,
} from '../summarize.js';
import { isoTime, parseTime } from '../time.js';
import { type Ctx, fitRows, notice, render, timeArg, warningsSchema } from './common.js';
import { seriesSummarySchema, shapeMatrix } from './query-range.js';

const sampleSchema = z.object({
  labels: z.record(z.string(), z.string()).describe('Labels not shared by every sample'),
  value: z.number().nullable().describe('null when NaN or infinite (see raw)'),
  raw: z.string().optional().describe('Value as Prometheus wrote it, when not a finite number'),
});

const output = z.object({
  query: z.string(),
  time: z.string(),
  resultType: z.enum(['vector', 'scalar', 'string', 'matrix']),
  resultCount: z.number(),
  omitted: z.number(),
  commonLabels: z.record(z.string(), z.string()),
  samples: z.array(sampleSchema).optional().describe('vector results'),
  scalar: z.union([z.number(), z.string()]).nullable().optional().describe('scalar / string results'),
  series: z.array(seriesSummarySchema).optional().describe('matrix results (range selectors), summarised'),
  warnings: warningsSchema,
  truncated: z.boolean(),
});

type Sample0 = z.infer<typeof sampleSchema>;

function toSample(metric: Labels, common: Labels, raw: string): Sample0 {
  const v = parseValue(raw);
  return Number.isFinite(v)
    ? { labels: withoutLabels(metric, common), value: v }
    : { labels: withoutLabels(metric, common), value: null, raw };
}

export const queryTool = defineTool({
  name: 'query',
  title: 'PromQL instant query',
  description:
    'Evaluate a PromQL expression at one instant (default now). Use query_range for trends over time.',
  input: z.object({
    query: z.string().min(1).describe('PromQL expression, e.g. sum by (job) (up)'),
    time: timeArg('Evaluation time (default now)'),
    maxBytes: maxBytesArg,
  }),
  output,
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    const now = Date.now() / 1000;
    const time = args.time === undefined ? undefined : parseTime(args.time, now, 'time');
    const params: [string, string][] = [['query', args.query]];
    if (time !== undefined) params.push(['time', String(time)]);
    params.push(['timeout', `${Math.max(1, Math.floor(ctx.client.config.timeoutMs / 1000))}s`]);
    const r = await ctx.client.api<{ resultType: 'vector' | 'scalar' | 'string' | 'matrix'; result: any }>(
      'api/v1/query',
      params,
      {
        signal: ctx.signal,
        post: true,
        query: args.query,
      },
    );
    const { resultType, result } = r.data;
    const at = isoTime(time ?? now);
    const warnings = [...r.warnings, ...r.infos];
    const base = { query: args.query, time: at, resultType, warnings };

    if (resultType === 'scalar' || resultType === 'string') {
      const [t, raw] = result as Sample;
      const v = resultType === 'scalar' ? parseValue(raw) : raw;
      const data = {
        ...base,
        time: isoTime(t),
        resultCount: 1,
        omitted: 0,
        commonLabels: {},
        scalar: typeof v === 'number' && !Number.isFinite(v) ? raw : v,
        truncated: false,
      };
      return {
        data,
        text: render([`${args.query} = ${raw} (${resultType} at ${data.time})`], r.warnings, r.infos),
      };
    }

    if (resultType === 'matrix') {
      const series = result as MatrixSeries[];
      const times = series.flatMap((s) => (s.values ?? []).map((v) => v[0]));
      const start = times.length ? Math.min(...times) : (time ?? now);
      const end = times.length ? Math.max(...times) : (time ?? now);
      const samples = Math.max(1, ...series.map((s) => (s.values ?? []).length));
      const step = samples > 1 ? (end - start) / (samples - 1) : 1;
      const shaped = shapeMatrix(series, {
        start,
        end,
        step,
        format: 'summary',
        stat: 'max',
        budget: ctx.budget,
      });
      const data = {
        ...base,
        resultCount: series.length,
        omitted: shaped.omitted,
        commonLabels: shaped.common,
        series: shaped.rows,
        truncated: shaped.omitted > 0,
      };
      const text = render(
        [
          `${args.query} · ${series.length} series (range selector; raw samples summarised) at ${at}`,
          ...shaped.lines,
        ],
        r.warnings,
        r.infos,
      );
      return { data, text, truncated: data.truncated };
    }

    const vector = result as { metric: Labels; value: Sample }[];
    const common = commonLabels(vector.map((s) => s.metric));
    const samples = vector.map((s) => toSample(s.metric, common, s.value[1]));
    const line = (s: Sample0) => `${formatLabels(s.labels)}  ${s.raw ?? num(s.value)}`;
    const fitted = fitRows(samples, ctx.budget, line);
    const data = {
      ...base,
      resultCount: vector.length,
      omitted: fitted.omitted,
      commonLabels: common,
      samples: fitted.items,
      truncated: fitted.omitted > 0,
    };
    const lines = [
      `${args.query} · ${vector.length} sample${vector.length === 1 ? '' : 's'} at ${at}`,
      vector.length === 0 && 'empty result: no series matched (check names with label_values or series)',
      Object.keys(common).length > 0 && `common labels: ${formatLabels(common)}`,
      fitted.items.length > 0 &&
        table(
          ['series', 'value'],
          fitted.items.map((s) => [formatLabels(s.labels) || '{}', s.raw ?? num(s.value)]),
        ),
      ...notice(fitted.omitted, 'samples', 'label matchers or topk()'),
    ];
    return { data, text: render(lines, r.warnings, r.infos), truncated: data.truncated };
  },
});
