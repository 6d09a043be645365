import {
  cursorArg,
  echo,
  fitNotes,
  maxBytesArg,
  nextCursorSchema,
  noteFields,
  offsetSchema,
  pageNotice,
  pager,
  table,
} from '@infra-mcp/core';
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
import {
  queryBytesSchema,
  queryEchoSchema,
  render,
  timeArg,
  tool,
  warningsOmittedSchema,
  warningsSchema,
} from './common.js';
import { fitMatrix, seriesSummarySchema, shapeMatrix } from './query-range.js';

const sampleSchema = z.object({
  labels: z.record(z.string(), z.string()).describe('Labels not shared by every sample'),
  value: z.number().nullable().describe('null when NaN or infinite (see raw)'),
  raw: z.string().optional().describe('Value as Prometheus wrote it, when not a finite number'),
});

const output = z.object({
  query: queryEchoSchema,
  queryBytes: queryBytesSchema,
  time: z.string(),
  resultType: z.enum(['vector', 'scalar', 'string', 'matrix']),
  resultCount: z.number(),
  omitted: z.number(),
  commonLabels: z.record(z.string(), z.string()),
  samples: z.array(sampleSchema).optional().describe('vector results'),
  scalar: z.union([z.number(), z.string()]).nullable().optional().describe('scalar / string results'),
  series: z.array(seriesSummarySchema).optional().describe('matrix results (range selectors), summarised'),
  warnings: warningsSchema,
  warningsOmitted: warningsOmittedSchema,
  offset: offsetSchema,
  nextCursor: nextCursorSchema,
  truncated: z.boolean(),
});

type Sample0 = z.infer<typeof sampleSchema>;

function toSample(metric: Labels, common: Labels, raw: string): Sample0 {
  const v = parseValue(raw);
  return Number.isFinite(v)
    ? { labels: withoutLabels(metric, common), value: v }
    : { labels: withoutLabels(metric, common), value: null, raw };
}

export const queryTool = tool({
  name: 'query',
  title: 'PromQL instant query',
  description:
    'Evaluate a PromQL expression at one instant (default now). Use query_range for trends over time.',
  input: z.object({
    query: z.string().min(1).describe('PromQL expression, e.g. sum by (job) (up)'),
    time: timeArg('Evaluation time (default now)'),
    cursor: cursorArg,
    maxBytes: maxBytesArg,
  }),
  output,
  effect: 'read',
  toolset: 'query',
  run: async (args, ctx) => {
    // pages after the first evaluate at the first page's instant (pinned in the cursor)
    const list = pager<{ t: number }>('query', ctx, args);
    const now = list.state?.t ?? Date.now() / 1000;
    const time =
      list.state !== undefined
        ? now
        : args.time === undefined
          ? undefined
          : parseTime(args.time, now, 'time');
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
    const q = echo(args.query, ctx.budget);
    const notes = fitNotes(r.warnings, r.infos, ctx.budget);
    const base = {
      query: q.text,
      ...(q.abbreviated ? { queryBytes: q.bytes } : {}),
      time: at,
      resultType,
      ...noteFields(notes),
    };

    if (resultType === 'scalar' || resultType === 'string') {
      const [t, raw] = result as Sample;
      const v = resultType === 'scalar' ? parseValue(raw) : raw;
      // A string result can be long: it is the one value, so it is clipped rather than dropped.
      const shown = resultType === 'string' ? echo(raw, ctx.budget * 2, 'string') : undefined;
      const data = {
        ...base,
        time: isoTime(t),
        resultCount: 1,
        omitted: 0,
        commonLabels: {},
        scalar: shown ? shown.text : typeof v === 'number' && !Number.isFinite(v) ? raw : v,
        truncated: Boolean(shown?.abbreviated),
      };
      return {
        data,
        text: render(
          [`${q.text} = ${shown ? shown.text : raw} (${resultType} at ${data.time})`],
          notes.lines,
        ),
        truncated: data.truncated,
      };
    }

    if (resultType === 'matrix') {
      const series = result as MatrixSeries[];
      // Loops, not Math.min(...times): a range selector can return hundreds of thousands of samples.
      let start = Number.POSITIVE_INFINITY;
      let end = Number.NEGATIVE_INFINITY;
      let samples = 1;
      for (const s of series) {
        const values = s.values ?? [];
        if (values.length > samples) samples = values.length;
        for (const [t] of values) {
          if (t < start) start = t;
          if (t > end) end = t;
        }
      }
      if (start > end) start = end = time ?? now;
      const step = samples > 1 ? (end - start) / (samples - 1) : 1;
      const shaped = shapeMatrix(series, { start, end, step, format: 'summary', stat: 'max' });
      const { data, text } = fitMatrix(shaped, ctx.budget, (page, lines) => {
        const data = {
          ...base,
          resultCount: series.length,
          omitted: page.omitted,
          commonLabels: shaped.common,
          series: page.items,
          truncated: page.omitted > 0,
        };
        const text = render(
          [
            `${q.text} · ${series.length} series (range selector; raw samples summarised) at ${at}`,
            ...lines,
            ...pageNotice(page, 'series', 'label matchers, sum by (...) or topk()'),
          ],
          notes.lines,
        );
        return { data, text };
      });
      return { data, text, truncated: data.truncated };
    }

    const vector = result as { metric: Labels; value: Sample }[];
    const common = commonLabels(vector.map((s) => s.metric));
    const samples = vector.map((s) => toSample(s.metric, common, s.value[1]));
    const cells = (s: Sample0) => [formatLabels(s.labels) || '{}', s.raw ?? num(s.value)];
    return list.page({
      items: samples,
      line: (s) => cells(s).join('  '),
      what: 'samples',
      narrow: 'label matchers or topk()',
      state: { t: time ?? now },
      data: (page) => ({
        ...base,
        resultCount: vector.length,
        commonLabels: common,
        samples: page.items,
      }),
      text: (page, range) => [
        `${q.text} · ${vector.length} sample${vector.length === 1 ? '' : 's'} at ${at}${range}`,
        vector.length === 0 && 'empty result: no series matched (check names with label_values or series)',
        Object.keys(common).length > 0 && `common labels: ${formatLabels(common)}`,
        page.items.length > 0 && table(['series', 'value'], page.items.map(cells)),
      ],
      notes: notes.lines,
    });
  },
});
