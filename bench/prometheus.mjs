#!/usr/bin/env node
// @infra-mcp/prometheus against a real Prometheus, in one run:
//  1. size: our prometheus_query_range answer for 1h of rate(node_cpu_seconds_total[1m]) versus the raw
//     /api/v1/query_range JSON for the same query, start, end and step (goal <= 5%), with
//     first/last/min/max/avg checked for exact equality against the raw data;
//  2. latency: median added latency of a prometheus_query tools/call over stdio (the bundled infra-mcp
//     app) versus a direct HTTP call to Prometheus from Node (goal < 1 ms).
//
// The node exporter of this machine is scraped every second; the hour before Prometheus started is
// backfilled with promtool (15 s samples continuing the exporter's own counters), so the hour is full.
//
//   pnpm build && node bench/prometheus.mjs [--calls 300]
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { startPrometheus } from '../packages/prometheus/test/prometheus-server.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '../apps/server/dist/cli.js');
if (!existsSync(cli)) throw new Error(`${cli} missing: run pnpm build first`);
const callsArg = process.argv.indexOf('--calls');
const CALLS = callsArg > 0 ? Number(process.argv[callsArg + 1]) : 300;
const QUERY = 'rate(node_cpu_seconds_total[1m])';

/**
 * OpenMetrics text continuing the node exporter's own node_cpu_seconds_total series 65 minutes back
 * in time, 15 s apart: each counter ends at its current value and grows at its lifetime average rate
 * (value / uptime) with jitter, so the counters join the live series without a reset.
 */
async function backfill({ url, instance }) {
  const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
  const uptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) || 86400;
  const now = Math.floor(Date.now() / 1000) - 1;
  const lines = ['# TYPE node_cpu_seconds_total counter'];
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  for (const m of metrics.matchAll(/^node_cpu_seconds_total\{cpu="(\d+)",mode="(\w+)"\} (\S+)$/gm)) {
    const [, cpu, mode, current] = m;
    // lifetime average rate; on a host up for less than the hour, slow enough to stay above zero
    const rate = Number(current) / Math.max(uptime, 4500);
    const points = [];
    let value = Number(current);
    for (let t = now; t >= now - 65 * 60; t -= 15) {
      points.push(
        `node_cpu_seconds_total{cpu="${cpu}",env="test",instance="${instance}",job="node",mode="${mode}"} ${value.toFixed(2)} ${t}`,
      );
      value = Math.max(0, value - 15 * rate * (0.5 + rand()));
    }
    lines.push(...points.reverse());
  }
  if (lines.length === 1) throw new Error('node exporter served no node_cpu_seconds_total');
  lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const bytes = (x) => Buffer.byteLength(typeof x === 'string' ? x : JSON.stringify(x));
const key = (labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

process.stderr.write('starting prometheus (backfilling the last hour of node_cpu_seconds_total)...\n');
const prom = await startPrometheus({ backfill, minScrapes: 5 });
const state = mkdtempSync(join(tmpdir(), 'infra-mcp-bench-state-'));
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [cli],
  env: { ...process.env, PROMETHEUS_URL: prom.url, XDG_STATE_HOME: state },
  stderr: 'ignore',
});
const client = new Client({ name: 'bench', version: '0.0.0' });
let failed = false;
try {
  await client.connect(transport);

  // ---- 1. size and exactness ----
  const call = (name, args) => client.callTool({ name, arguments: args });
  const r = await call('prometheus_query_range', {
    query: QUERY,
    start: 'now-1h',
    end: 'now',
    maxBytes: 1_048_576,
  });
  if (r.isError) throw new Error(`query_range failed: ${r.content[0].text}`);
  const ours = r.structuredContent;
  const start = Date.parse(ours.start) / 1000;
  const end = Date.parse(ours.end) / 1000;
  const rawRes = await fetch(
    `${prom.url}/api/v1/query_range?${new URLSearchParams({ query: QUERY, start: String(start), end: String(end), step: String(ours.step) })}`,
  );
  const rawText = await rawRes.text();
  const raw = JSON.parse(rawText);
  const byLabels = new Map(ours.series.map((s) => [key({ ...ours.commonLabels, ...s.labels }), s]));
  let checked = 0;
  const mismatches = [];
  for (const series of raw.data.result) {
    const mine = byLabels.get(key(series.metric));
    if (!mine) {
      mismatches.push(`missing series ${JSON.stringify(series.metric)}`);
      continue;
    }
    const values = series.values.map(([, v]) => Number(v)).filter(Number.isFinite);
    let sum = 0;
    for (const v of values) sum += v;
    const expected = {
      first: Number(series.values[0][1]),
      last: Number(series.values.at(-1)[1]),
      min: Math.min(...values),
      max: Math.max(...values),
      avg: sum / values.length,
      points: series.values.length,
    };
    for (const [k, v] of Object.entries(expected))
      if (mine[k] !== v) mismatches.push(`${JSON.stringify(series.metric)} ${k}: ours ${mine[k]}, raw ${v}`);
    checked++;
  }
  const answerBytes = bytes(r);
  const textBytes = bytes(r.content.map((c) => c.text).join('\n'));
  const structuredBytes = bytes(ours);
  const def = await call('prometheus_query_range', { query: QUERY, start: 'now-1h', end: 'now' });

  console.log(
    `query_range: ${QUERY}, ${ours.start} -> ${ours.end}, step ${ours.step}s, ${raw.data.result.length} series`,
  );
  console.log(`  raw /api/v1/query_range JSON            ${rawText.length.toLocaleString()} bytes`);
  console.log(
    `  ours, every series (whole tool result)  ${answerBytes.toLocaleString()} bytes = ${((100 * answerBytes) / rawText.length).toFixed(2)}% of raw (text ${textBytes}, structuredContent ${structuredBytes})`,
  );
  console.log(
    `  ours, default 16 KiB budget             ${bytes(def).toLocaleString()} bytes = ${((100 * bytes(def)) / rawText.length).toFixed(2)}% of raw (${def.structuredContent.series.length} of ${def.structuredContent.seriesCount} series, ${def.structuredContent.omitted} summarised away)`,
  );
  console.log(
    `  exactness: first/last/min/max/avg/points of ${checked} series ${mismatches.length ? `MISMATCH:\n    ${mismatches.slice(0, 10).join('\n    ')}` : 'all equal to the raw data'}`,
  );
  console.log(`  goal <= 5%: ${(100 * answerBytes) / rawText.length <= 5 ? 'met' : 'NOT met'}`);
  if (process.argv.includes('--show')) console.log(`${r.content[0].text}\n${JSON.stringify(ours)}`);
  failed ||= mismatches.length > 0;

  // ---- 2. latency ----
  const direct = async () => {
    const t0 = performance.now();
    const res = await fetch(`${prom.url}/api/v1/query?query=up`);
    await res.json();
    return performance.now() - t0;
  };
  const viaMcp = async () => {
    const t0 = performance.now();
    const res = await call('prometheus_query', { query: 'up' });
    if (res.isError) throw new Error(res.content[0].text);
    return performance.now() - t0;
  };
  for (let i = 0; i < 30; i++) {
    await direct();
    await viaMcp();
  }
  const d = [];
  const m = [];
  for (let i = 0; i < CALLS; i++) {
    // interleaved so machine noise hits both alike
    d.push(await direct());
    m.push(await viaMcp());
  }
  const md = median(d);
  const mm = median(m);
  console.log(`query latency (median of ${CALLS}, interleaved):`);
  console.log(`  direct HTTP from Node (fetch)           ${md.toFixed(3)} ms`);
  console.log(
    `  prometheus_query tools/call over stdio  ${mm.toFixed(3)} ms  (ratio ${(mm / md).toFixed(2)}x)`,
  );
  console.log(
    `  added                                   ${(mm - md).toFixed(3)} ms  (goal < 1 ms: ${mm - md < 1 ? 'met' : 'NOT met'})`,
  );
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await client.close().catch(() => {});
  await prom.stop();
}
process.exitCode = failed ? 1 : 0;
