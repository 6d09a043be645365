import {
  answerBytes,
  echo,
  fitPage,
  humanBytes,
  humanDuration,
  isToolError,
  maxBytesArg,
  pageNotice,
  table,
} from '@infra-mcp/core';
import { z } from 'zod';
import { isoTime } from '../time.js';
import { contains, render, tool } from './common.js';

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

type NameCount = z.infer<typeof nameCount>;
interface TsdbLists {
  seriesByMetric?: NameCount;
  valuesByLabel?: NameCount;
  memoryByLabel?: NameCount;
  seriesByLabelPair?: NameCount;
}

function tsdbSections(lists: TsdbLists): string[] {
  const section = (
    title: string,
    list: NameCount | undefined,
    unit: string,
    fmt = (n: number) => String(n),
  ) =>
    list?.length
      ? [
          `${title}\n${table(
            ['name', unit],
            list.map((x) => [x.name, fmt(x.value)]),
          )}`,
        ]
      : [];
  return [
    ...section('metrics with most series:', lists.seriesByMetric, 'series'),
    ...section('labels with most values:', lists.valuesByLabel, 'values'),
    ...section('label memory:', lists.memoryByLabel, 'bytes', humanBytes),
    ...section('label pairs on most series:', lists.seriesByLabelPair, 'series'),
  ];
}

const toTime = (ms: unknown) =>
  typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) < 1e15 ? isoTime(ms / 1000) : null;

export const statusTool = tool({
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
  toolset: 'status',
  run: async (args, ctx) => {
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
    let lists: TsdbLists | undefined;
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
        lists = {
          seriesByMetric: pick(tsdb.seriesCountByMetricName),
          valuesByLabel: pick(tsdb.labelValueCountByLabelName),
          memoryByLabel: pick(tsdb.memoryInBytesByLabelName),
          seriesByLabelPair: pick(tsdb.seriesCountByLabelValuePair),
        };
      }
    }
    if (unavailable.length) data.unavailable = unavailable;
    const tail = unavailable.length ? [`not served by this backend: ${unavailable.join(', ')}`] : [];
    if (flags) {
      const entries = Object.entries(flags).filter(([k]) => contains(k, args.filter));
      const filter = args.filter === undefined ? undefined : echo(args.filter, ctx.budget, 'filter');
      const { data: out, text } = fitPage({
        items: entries,
        budget: ctx.budget,
        line: ([k, v]) => `${k}  ${v}`,
        build: (page) => ({
          data: { ...data, flags: Object.fromEntries(page.items), omitted: page.omitted },
          text: render([
            ...lines,
            `${entries.length} flags${filter ? ` matching "${filter.text}"` : ''}`,
            page.items.length > 0 && table(['flag', 'value'], page.items),
            ...pageNotice(page, 'flags', 'filter'),
            ...tail,
          ]),
        }),
      });
      return { data: out, text, truncated: (out.omitted ?? 0) > 0 };
    }
    if (!lists) return { data, text: render([...lines, ...tail]) };
    // tsdb: the cardinality lists (top 10 each) are the big part; keep the first n of each that fit.
    const full = lists;
    const longest = Math.max(0, ...Object.values(full).map((l) => l?.length ?? 0));
    const fitLists = (n: number) => {
      const kept = Object.fromEntries(Object.entries(full).map(([k, l]) => [k, l?.slice(0, n)])) as TsdbLists;
      const omitted = Object.values(full).reduce((sum, l) => sum + Math.max(0, (l?.length ?? 0) - n), 0);
      const answer = {
        data: { ...data, tsdb: { ...data.tsdb!, ...kept }, ...(omitted ? { omitted } : {}) },
        text: render([
          ...lines,
          ...tsdbSections(kept),
          omitted > 0 &&
            `truncated: ${omitted} more entries of the cardinality lists; raise maxBytes to see them`,
          ...tail,
        ]),
      };
      return answer;
    };
    let n = longest;
    let answer = fitLists(n);
    while (n > 0 && answerBytes(answer) > ctx.budget) answer = fitLists(--n);
    return answer;
  },
});
