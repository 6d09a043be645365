import { defineTool, humanBytes, humanDuration, isToolError, maxBytesArg, table } from '@infra-mcp/core';
import { z } from 'zod';
import { isoTime } from '../time.js';
import { type Ctx, contains, fitRows, notice, render } from './common.js';

const nameCount = z.array(z.object({ name: z.string(), value: z.number() }));

const output = z.object({
  section: z.enum(['overview', 'build', 'runtime', 'tsdb', 'flags']),
  build: z.record(z.string(), z.string()).optional(),
  runtime: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  tsdb: z
    .object({
      headSeries: z.number(),
      labelPairs: z.number().optional(),
      chunks: z.number().optional(),
      minTime: z.string().nullable(),
      maxTime: z.string().nullable(),
      seriesByMetric: nameCount.optional().describe('Metrics with the most series'),
      valuesByLabel: nameCount.optional().describe('Labels with the most values'),
      memoryByLabel: nameCount.optional().describe('Bytes of label values per label'),
      seriesByLabelPair: nameCount.optional().describe('label=value pairs on the most series'),
    })
    .optional(),
  flags: z.record(z.string(), z.string()).optional(),
  omitted: z.number().optional(),
  unavailable: z.array(z.string()).optional().describe('Sections this backend does not serve'),
});
type Output = z.infer<typeof output>;

async function optional<T>(p: Promise<T>, name: string, unavailable: string[]): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isToolError(err) && (err.code === 'not_supported' || err.code === 'bad_request')) {
      unavailable.push(name);
      return undefined;
    }
    throw err;
  }
}

const toTime = (ms: unknown) =>
  typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) < 1e15 ? isoTime(ms / 1000) : null;

export const statusTool = defineTool({
  name: 'status',
  title: 'Server status',
  description:
    'Prometheus server status. section: overview (default), build, runtime, tsdb (head stats and cardinality: top metrics and labels by series), flags (filter narrows).',
  input: z.object({
    section: z.enum(['overview', 'build', 'runtime', 'tsdb', 'flags']).default('overview'),
    filter: z.string().optional().describe('flags: case-insensitive substring of the flag name'),
    maxBytes: maxBytesArg,
  }),
  output,
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    const get = <T>(path: string) => ctx.client.api<T>(path, [], { signal: ctx.signal }).then((r) => r.data);
    const unavailable: string[] = [];
    const s = args.section;
    const [build, runtime, tsdb, flags] = await Promise.all([
      s === 'overview' || s === 'build'
        ? optional(get<Record<string, string>>('api/v1/status/buildinfo'), 'build', unavailable)
        : undefined,
      s === 'overview' || s === 'runtime'
        ? optional(get<Record<string, any>>('api/v1/status/runtimeinfo'), 'runtime', unavailable)
        : undefined,
      s === 'overview' || s === 'tsdb'
        ? optional(get<Record<string, any>>('api/v1/status/tsdb'), 'tsdb', unavailable)
        : undefined,
      s === 'flags'
        ? optional(get<Record<string, string>>('api/v1/status/flags'), 'flags', unavailable)
        : undefined,
    ]);
    const data: Output = { section: s };
    const lines: (string | false)[] = [];
    if (build) {
      data.build = build;
      lines.push(`prometheus ${build.version} (revision ${build.revision || '-'}, ${build.goVersion})`);
    }
    if (runtime) {
      const keep =
        s === 'runtime'
          ? runtime
          : {
              startTime: runtime.startTime,
              storageRetention: runtime.storageRetention,
              reloadConfigSuccess: runtime.reloadConfigSuccess,
              lastConfigTime: runtime.lastConfigTime,
            };
      data.runtime = Object.fromEntries(
        Object.entries(keep).filter(([, v]) => v !== undefined && typeof v !== 'object'),
      );
      const started = Date.parse(runtime.startTime);
      lines.push(
        `started ${runtime.startTime}${Number.isFinite(started) ? ` (up ${humanDuration((Date.now() - started) / 1000)})` : ''}; retention ${runtime.storageRetention ?? '-'}; config reload ${runtime.reloadConfigSuccess ? 'ok' : 'FAILED'} at ${runtime.lastConfigTime ?? '-'}`,
      );
      if (s === 'runtime') {
        lines.push(
          table(
            ['key', 'value'],
            Object.entries(data.runtime).filter(
              ([k]) =>
                !['startTime', 'storageRetention', 'reloadConfigSuccess', 'lastConfigTime'].includes(k),
            ),
          ),
        );
      }
    }
    if (tsdb) {
      const head = tsdb.headStats ?? {};
      const pick = (list: any) =>
        Array.isArray(list)
          ? list.map((x: any) => ({ name: String(x.name), value: Number(x.value) }))
          : undefined;
      data.tsdb = {
        headSeries: Number(head.numSeries ?? 0),
        labelPairs: head.numLabelPairs,
        chunks: head.chunkCount,
        minTime: toTime(head.minTime),
        maxTime: toTime(head.maxTime),
      };
      lines.push(
        `head: ${data.tsdb.headSeries} series, ${head.numLabelPairs ?? '-'} label pairs, ${head.chunkCount ?? '-'} chunks, ${data.tsdb.minTime ?? '-'} → ${data.tsdb.maxTime ?? '-'}`,
      );
      if (s === 'tsdb') {
        Object.assign(data.tsdb, {
          seriesByMetric: pick(tsdb.seriesCountByMetricName),
          valuesByLabel: pick(tsdb.labelValueCountByLabelName),
          memoryByLabel: pick(tsdb.memoryInBytesByLabelName),
          seriesByLabelPair: pick(tsdb.seriesCountByLabelValuePair),
        });
        const section = (
          title: string,
          list: { name: string; value: number }[] | undefined,
          unit: string,
          fmt = (n: number) => String(n),
        ) =>
          list?.length
            ? `${title}\n${table(
                ['name', unit],
                list.map((x) => [x.name, fmt(x.value)]),
              )}`
            : false;
        lines.push(
          section('metrics with most series:', data.tsdb.seriesByMetric, 'series'),
          section('labels with most values:', data.tsdb.valuesByLabel, 'values'),
          section('label memory:', data.tsdb.memoryByLabel, 'bytes', humanBytes),
          section('label pairs on most series:', data.tsdb.seriesByLabelPair, 'series'),
        );
      }
    }
    if (flags) {
      const entries = Object.entries(flags).filter(([k]) => contains(k, args.filter));
      const fitted = fitRows(entries, ctx.budget, ([k, v]) => `${k} ${v}`);
      data.flags = Object.fromEntries(fitted.items);
      data.omitted = fitted.omitted;
      lines.push(
        `${entries.length} flags${args.filter ? ` matching "${args.filter}"` : ''}`,
        table(['flag', 'value'], fitted.items),
        ...notice(fitted.omitted, 'flags', 'filter'),
      );
    }
    if (unavailable.length) {
      data.unavailable = unavailable;
      lines.push(`not served by this backend: ${unavailable.join(', ')}`);
    }
    return { data, text: render(lines) };
  },
});
