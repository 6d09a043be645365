/**
 * Every tool against a real Prometheus + node exporter (test/prometheus-server.ts), through the
 * MCP in-memory client: what a model would see.
 */
import { createServer as createTcpServer, type Server } from 'node:net';
import { connect, type TestClient } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheus } from '../src/index.js';
import { freePort, type PrometheusServer, startPrometheus } from './prometheus-server.js';

let prom: PrometheusServer;
let t: TestClient;
let blackhole: Server;
let blackholePort: number;
let unusedPort: number;

beforeAll(async () => {
  prom = await startPrometheus();
  // Accepts connections and never answers: a hung backend.
  blackhole = createTcpServer(() => {});
  await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
  blackholePort = (blackhole.address() as { port: number }).port;
  unusedPort = await freePort();
  t = await connect(
    [
      prometheus({
        instances: {
          main: { url: prom.url },
          prefixed: { url: `${prom.url}/`, maxSeries: 5, maxRange: '2d' },
          gone: { url: `http://127.0.0.1:${unusedPort}` },
          hung: { url: `http://127.0.0.1:${blackholePort}`, timeoutMs: 300 },
        },
      }),
    ],
    { pluginConfig: { prometheus: { toolsets: ['all'] } } },
  );
});

afterAll(async () => {
  await t?.close();
  blackhole?.close();
  await prom?.stop();
});

describe('tools/list', () => {
  it('lists every tool with an instance argument, output schema and read-only annotation', async () => {
    const tools = await t.listTools();
    const names = tools.map((x) => x.name).sort();
    expect(names).toEqual(
      [
        'alerts',
        'label_values',
        'labels',
        'metadata',
        'query',
        'query_range',
        'rules',
        'series',
        'status',
        'targets',
      ].map((n) => `prometheus_${n}`),
    );
    for (const tool of tools) {
      expect(tool.outputSchema, tool.name).toBeDefined();
      expect(tool.annotations.readOnlyHint, tool.name).toBe(true);
      expect(tool.inputSchema.properties.instance.enum).toEqual(['main', 'prefixed', 'gone', 'hung']);
      expect(tool.description.length, tool.name).toBeLessThan(220);
    }
  });
});

describe('query', () => {
  it('returns an instant vector as a table, shared labels factored out', async () => {
    const r = await t.call('prometheus_query', { query: 'up' });
    expect(r.isError).toBe(false);
    expect(r.structured.resultType).toBe('vector');
    expect(r.structured.resultCount).toBe(3);
    expect(r.structured.commonLabels).toEqual({ __name__: 'up' });
    const byJob = Object.fromEntries(r.structured.samples.map((s: any) => [s.labels.job, s.value]));
    expect(byJob).toEqual({ node: 1, prometheus: 1, down: 0 });
    expect(r.text).toMatch(/^up · 3 samples at /);
    expect(r.text).toMatch(/\{env="test", instance="127\.0\.0\.1:\d+", job="node"\}\s+1/);
    expect(r.text).not.toContain('"status"');
  });

  it('evaluates at a given time and reads the recording rule', async () => {
    const r = await t.call('prometheus_query', { query: 'job:up:sum{job="node"}', time: 'now-1s' });
    expect(r.isError).toBe(false);
    expect(r.structured.samples[0].value).toBe(1);
    expect(Date.parse(r.structured.time)).toBeLessThan(Date.now() - 900);
  });

  it('returns scalars and strings', async () => {
    const s = await t.call('prometheus_query', { query: 'scalar(sum(up))' });
    expect(s.structured).toMatchObject({ resultType: 'scalar', scalar: 2 });
    expect(s.text).toContain('scalar(sum(up)) = 2');
    const str = await t.call('prometheus_query', { query: '"hello"' });
    expect(str.structured).toMatchObject({ resultType: 'string', scalar: 'hello' });
  });

  it('summarises a range selector instead of dumping raw samples', async () => {
    const r = await t.call('prometheus_query', { query: 'up{job="node"}[10s]' });
    expect(r.structured.resultType).toBe('matrix');
    expect(r.structured.series[0]).toMatchObject({ min: 1, max: 1, last: 1 });
    expect(r.structured.series[0].points).toBeGreaterThanOrEqual(3);
  });

  it('gives the parse error and its position to the model', async () => {
    const r = await t.call('prometheus_query', { query: 'sum(rate(up[5m]) by (job)' });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('bad_query');
    expect(r.text).toMatch(/PromQL parse error at line 1, column \d+/);
    expect(r.text).toContain('sum(rate(up[5m]) by (job)');
    expect(r.text).toMatch(/\n\s+\^/);
    expect(r.raw._meta['infra-mcp/error'].hint).toContain('marked position');
  });

  it('reports a semantic error (wrong argument type) as bad_query', async () => {
    const r = await t.call('prometheus_query', { query: 'rate(up)' });
    expect(r.errorCode).toBe('bad_query');
    expect(r.text).toMatch(/range vector/);
  });

  it('says so when nothing matched', async () => {
    const r = await t.call('prometheus_query', { query: 'no_such_metric_xyz' });
    expect(r.isError).toBe(false);
    expect(r.structured.resultCount).toBe(0);
    expect(r.text).toContain('no series matched');
  });

  it('fits a big vector into the budget with an explicit truncation line', async () => {
    const r = await t.call('prometheus_query', { query: '{__name__=~".+"}', maxBytes: 2048 });
    expect(r.isError).toBe(false);
    expect(r.structured.resultCount).toBeGreaterThan(300);
    expect(r.structured.omitted).toBeGreaterThan(200);
    expect(r.structured.truncated).toBe(true);
    expect(r.text).toMatch(
      /truncated: \d+ more samples; pass cursor=[\w.-]+ for the next page, or narrow with label matchers or topk\(\)/,
    );
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(2048);
    expect(Buffer.byteLength(JSON.stringify(r.structured))).toBeLessThanOrEqual(2048);
  });

  it('refuses bad times with a hint', async () => {
    const r = await t.call('prometheus_query', { query: 'up', time: 'yesterday-ish' });
    expect(r.errorCode).toBe('bad_time');
    expect(r.text).toContain('now-1h');
    const ms = await t.call('prometheus_query', { query: 'up', time: Date.now() });
    expect(ms.errorCode).toBe('bad_time');
    expect(ms.text).toContain('milliseconds');
  });

  it('refuses a year given as a time instead of reading it as a 1970 unix second', async () => {
    for (const time of [2024, '2024']) {
      const r = await t.call('prometheus_query', { query: 'up', time });
      expect(r.errorCode).toBe('bad_time');
      expect(r.text).toContain('time "2024" looks like a year, not unix seconds');
      expect(r.text).toContain('"2024-01-01T00:00:00Z"');
    }
    const range = await t.call('prometheus_query_range', { query: 'up', start: '2024', end: 'now' });
    expect(range.errorCode).toBe('bad_time');
    expect(range.text).toContain('start "2024" looks like a year');
    const series = await t.call('prometheus_series', { match: ['up'], start: 1999 });
    expect(series.errorCode).toBe('bad_time');
    // real unix seconds still work
    const ok = await t.call('prometheus_query', { query: 'up', time: Math.floor(Date.now() / 1000) - 1 });
    expect(ok.isError).toBe(false);
  });

  it('summarises a range selector of ~170k samples (no spread of the samples into Math.min/max)', async () => {
    const r = await t.call('prometheus_query', { query: 'vector(1)[2d:1s]' });
    expect(r.isError).toBe(false);
    expect(r.structured.resultType).toBe('matrix');
    expect(r.structured.series[0].points).toBeGreaterThan(170_000);
    expect(r.structured.series[0]).toMatchObject({ min: 1, max: 1, avg: 1, first: 1, last: 1 });
  });
});

describe('query_range', () => {
  it('summarises each series: first, last, min, max, avg and a sparkline; chooses the step', async () => {
    const r = await t.call('prometheus_query_range', {
      query: 'rate(node_cpu_seconds_total[5s])',
      start: 'now-1h',
    });
    expect(r.isError).toBe(false);
    const d = r.structured;
    expect(d.step).toBe(15); // 1h / 250 points -> 14.4s -> 15s
    expect(d.format).toBe('summary');
    expect(d.commonLabels).toMatchObject({ job: 'node', env: 'test' });
    expect(d.seriesCount).toBeGreaterThanOrEqual(8);
    for (const s of d.series) {
      expect(Object.keys(s.labels).sort()).toEqual(['cpu', 'mode']);
      expect(s.min).toBeLessThanOrEqual(s.avg);
      expect(s.avg).toBeLessThanOrEqual(s.max);
      expect(s.values).toBeUndefined();
      expect(s.shape).toBeUndefined(); // the sparkline is in the text only
    }
    expect(r.text).toMatch(/\{cpu="\d+", mode="idle"\}\s.*[▁▂▃▄▅▆▇█]+$/m);
    // sorted by max, largest first
    const maxes = d.series.map((s: any) => s.max);
    expect([...maxes].sort((a, b) => b - a)).toEqual(maxes);
    expect(r.text).toMatch(/step 15s \(auto\)/);
    expect(r.text).toMatch(/series\s+first\s+last\s+min\s+max\s+avg\s+shape/);
  });

  it('statistics are exact against the raw query_range answer', async () => {
    const end = Math.floor(Date.now() / 1000);
    const start = end - 60;
    const query = 'rate(node_cpu_seconds_total{mode="idle"}[5s])';
    const r = await t.call('prometheus_query_range', { query, start, end, step: '2s' });
    const raw = await fetch(
      `${prom.url}/api/v1/query_range?${new URLSearchParams({ query, start: String(start), end: String(end), step: '2' })}`,
    ).then((x) => x.json() as Promise<any>);
    expect(r.structured.seriesCount).toBe(raw.data.result.length);
    for (const series of raw.data.result) {
      const values = series.values.map((v: [number, string]) => Number(v[1]));
      const ours = r.structured.series.find((s: any) => s.labels.cpu === series.metric.cpu);
      expect(ours.points).toBe(values.length);
      expect(ours.first).toBe(values[0]);
      expect(ours.last).toBe(values[values.length - 1]);
      expect(ours.min).toBe(Math.min(...values));
      expect(ours.max).toBe(Math.max(...values));
      expect(ours.avg).toBe(values.reduce((a: number, b: number) => a + b, 0) / values.length);
    }
  });

  it('format=points returns values on the step grid', async () => {
    // a window where the node exporter has been scraped every second
    const raw = await fetch(
      `${prom.url}/api/v1/query?query=${encodeURIComponent('up{job="node"}[1m]')}`,
    ).then((x) => x.json() as Promise<any>);
    const start = Math.ceil(raw.data.result[0].values[0][0]) + 1;
    const end = start + 4;
    while (Date.now() / 1000 < end + 1.5) await new Promise((resolve) => setTimeout(resolve, 200));
    const r = await t.call('prometheus_query_range', {
      query: 'up{job="node"}',
      start,
      end,
      step: 1,
      format: 'points',
    });
    expect(r.isError).toBe(false);
    expect(r.structured.series[0].values).toEqual([1, 1, 1, 1, 1]);
    expect(r.text).toContain('values at start + i*1s');
  });

  it('format=points fits the budget by keeping every n-th point', async () => {
    const r = await t.call('prometheus_query_range', {
      query: 'up{job="node"}',
      start: 'now-10m',
      step: 1,
      format: 'points',
      maxBytes: 1024,
    });
    expect(r.isError).toBe(false);
    expect(r.structured.series[0].stride).toBeGreaterThan(1);
    expect(Buffer.byteLength(JSON.stringify(r.structured))).toBeLessThanOrEqual(1024);
  });

  it('over budget: keeps the top series by the chosen statistic and says how many more', async () => {
    const r = await t.call('prometheus_query_range', {
      query: 'rate(node_cpu_seconds_total[5s])',
      start: '-2m',
      maxBytes: 1200,
      sortBy: 'avg',
    });
    expect(r.isError).toBe(false);
    expect(r.structured.truncated).toBe(true);
    expect(r.structured.omitted).toBe(r.structured.seriesCount - r.structured.series.length);
    expect(r.text).toMatch(
      /truncated: \d+ more series; narrow with label matchers, sum by \(\.\.\.\) or topk\(\)/,
    );
    const avgs = r.structured.series.map((s: any) => s.avg);
    expect([...avgs].sort((a, b) => b - a)).toEqual(avgs);
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(1200);
  });

  it('cardinality guard: refuses before fetching when the query has more series than allowed', async () => {
    const r = await t.call('prometheus_query_range', {
      instance: 'prefixed',
      query: 'node_cpu_seconds_total',
      start: '-5m',
    });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('too_many_series');
    expect(r.text).toMatch(/matches \d+ series; this instance returns at most 5/);
    expect(r.text).toContain('topk(10, ...)');
  });

  it('bad PromQL in a range query reaches the model with its position', async () => {
    const r = await t.call('prometheus_query_range', { query: 'up{job="node"', start: '-5m' });
    expect(r.errorCode).toBe('bad_query');
    expect(r.text).toMatch(/line 1, column \d+/);
  });

  it.each([
    [{ start: 'now', end: 'now-1h' }, 'bad_time', /start .* is after end/],
    [{ start: 'last tuesday' }, 'bad_time', /start "last tuesday" is not a time/],
    [{ end: '2024-13-45T99:00:00Z' }, 'bad_time', /end .* not a valid date/],
    [{ step: 0 }, 'bad_step', /greater than zero/],
    [{ step: '0s' }, 'bad_step', /greater than zero/],
    [{ step: 'fast' }, 'bad_step', /not a duration/],
    [
      { start: 'now-1d', step: '1s' },
      'bad_step',
      /asks for 8640\d points per series.*use a step of at least 10m/s,
    ],
    [{ start: '2000-01-01' }, 'range_too_large', /more than this instance allows \(31d\)/],
  ])('refuses %j with %s', async (args, code, message) => {
    const r = await t.call('prometheus_query_range', { query: 'up', ...args });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe(code);
    expect(r.text).toMatch(message);
    expect(r.text).toMatch(/hint: /);
  });

  it('the range limit is per instance', async () => {
    const r = await t.call('prometheus_query_range', { instance: 'prefixed', query: 'up', start: 'now-3d' });
    expect(r.errorCode).toBe('range_too_large');
    expect(r.text).toContain('(2d)');
  });
});

describe('series, labels, label_values, metadata', () => {
  it('series lists label sets of matching series', async () => {
    const r = await t.call('prometheus_series', { match: ['node_cpu_seconds_total{mode="idle"}'] });
    expect(r.isError).toBe(false);
    expect(r.structured.commonLabels).toMatchObject({
      __name__: 'node_cpu_seconds_total',
      mode: 'idle',
      job: 'node',
    });
    expect(r.structured.series.every((s: any) => Object.keys(s).join() === 'cpu')).toBe(true);
    expect(r.text).toMatch(/\d+ series match node_cpu_seconds_total\{mode="idle"\}/);
  });

  it('series with several selectors and a window', async () => {
    const r = await t.call('prometheus_series', { match: ['up', 'job:up:sum'], start: '-5m', end: 'now' });
    expect(r.structured.seriesCount).toBe(6);
  });

  it('series: a bad selector is explained', async () => {
    const r = await t.call('prometheus_series', { match: ['up{job='] });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('bad_query');
  });

  it('labels lists label names, optionally for matching series', async () => {
    const all = await t.call('prometheus_labels', {});
    expect(all.structured.labels).toEqual(
      expect.arrayContaining(['__name__', 'job', 'instance', 'cpu', 'mode']),
    );
    const up = await t.call('prometheus_labels', { match: ['up'] });
    expect(up.structured.labels.sort()).toEqual(['__name__', 'env', 'instance', 'job']);
    expect(up.text).toContain('4 label names on up');
    const small = await t.call('prometheus_labels', { maxBytes: 600 });
    expect(small.structured.truncated).toBe(true);
    expect(small.structured.labels.length + small.structured.omitted).toBe(small.structured.count);
    expect(small.text).toMatch(
      /truncated: \d+ more label names; pass cursor=[\w.-]+ for the next page, or narrow with match/,
    );
    expect(small.structured.nextCursor).toMatch(/^[\w.-]+$/);
  });

  it('label_values lists values, with a filter', async () => {
    const jobs = await t.call('prometheus_label_values', { label: 'job' });
    expect(jobs.structured.values).toEqual(['down', 'node', 'prometheus']);
    const names = await t.call('prometheus_label_values', { label: '__name__', filter: 'CPU_seconds' });
    expect(names.structured.values).toEqual(
      expect.arrayContaining(['node_cpu_seconds_total', 'process_cpu_seconds_total']),
    );
    expect(names.structured.values.every((v: string) => v.toLowerCase().includes('cpu_seconds'))).toBe(true);
  });

  it('label_values paginates by budget with a truncation line', async () => {
    const r = await t.call('prometheus_label_values', { label: '__name__', maxBytes: 512 });
    expect(r.structured.truncated).toBe(true);
    expect(r.structured.total).toBe(r.structured.values.length + r.structured.omitted);
    expect(r.text).toMatch(
      /truncated: \d+ more values; pass cursor=[\w.-]+ for the next page, or narrow with filter or match/,
    );
  });

  it('label_values refuses a non-label', async () => {
    const r = await t.call('prometheus_label_values', { label: 'job"}' });
    expect(r.errorCode).toBe('bad_label');
  });

  it('label_values honours the instance allow-list of label names (allow.label), with a denial naming label, value and patterns', async () => {
    const c = await connect([
      prometheus({
        instances: {
          open: { url: prom.url },
          narrow: { url: prom.url, allow: { label: ['job', 'node_*', '!node_secret'] } },
        },
      }),
    ]);
    const ok = await c.call('prometheus_label_values', { instance: 'narrow', label: 'job' });
    expect(ok.structured.values).toEqual(['down', 'node', 'prometheus']);
    const denied = await c.call('prometheus_label_values', { instance: 'narrow', label: 'instance' });
    expect(denied.errorCode).toBe('denied_by_policy');
    expect(denied.text).toContain(
      'label "instance" is not allowed on prometheus instance "narrow": allowed label patterns are job, node_*, !node_secret',
    );
    expect(
      (await c.call('prometheus_label_values', { instance: 'narrow', label: 'node_secret' })).errorCode,
    ).toBe('denied_by_policy');
    // no list on the other instance: not restricted
    expect((await c.call('prometheus_label_values', { instance: 'open', label: 'instance' })).isError).toBe(
      false,
    );
    await c.close();
    await expect(
      connect([prometheus({ url: prom.url, allow: { labels: ['job'] } } as never)]),
    ).rejects.toThrow(/unknown key "plugins\.prometheus\.allow\.labels"; known keys here: label/);
  });

  it('metadata gives type and help', async () => {
    const r = await t.call('prometheus_metadata', { metric: 'node_cpu_seconds_total' });
    expect(r.structured.metrics).toEqual([
      { metric: 'node_cpu_seconds_total', type: 'counter', help: 'Seconds the CPUs spent in each mode.' },
    ]);
    const f = await t.call('prometheus_metadata', { filter: 'memory' });
    expect(f.structured.total).toBeGreaterThan(3);
    expect(f.text).toMatch(/metric\s+type\s+help/);
  });
});

describe('targets, alerts, rules, status', () => {
  it('targets: health per target, problems first, filters', async () => {
    const r = await t.call('prometheus_targets', {});
    expect(r.structured.counts).toEqual({ up: 2, down: 1 });
    expect(r.structured.targets[0]).toMatchObject({ job: 'down', health: 'down' });
    expect(r.structured.targets[0].lastError).toContain('connection refused');
    expect(r.text).toMatch(/^3 active targets: /);
    const down = await t.call('prometheus_targets', { health: 'down' });
    expect(down.structured.targets.map((x: any) => x.job)).toEqual(['down']);
    const node = await t.call('prometheus_targets', { job: 'NODE' });
    expect(node.structured.targets).toHaveLength(1);
    expect(node.structured.targets[0].labels).toEqual({ env: 'test' });
    const dropped = await t.call('prometheus_targets', { state: 'dropped' });
    expect(dropped.isError).toBe(false);
    expect(dropped.structured.total).toBe(0);
  });

  it('alerts: firing and pending with labels, summary and age', async () => {
    const r = await t.call('prometheus_alerts', {});
    expect(r.structured.counts).toEqual({ firing: 2, pending: 1 });
    const always = r.structured.alerts.find((a: any) => a.name === 'AlwaysFiring');
    expect(always).toMatchObject({
      state: 'firing',
      value: 1,
      labels: { severity: 'warning', team: 'infra' },
      summary: 'Always firing (test alert)',
    });
    expect(always.annotations).toEqual({ description: 'This alert fires on every evaluation.' });
    expect(always.age).toBeGreaterThan(0);
    expect(r.structured.alerts.at(-1).state).toBe('pending');
    const critical = await t.call('prometheus_alerts', { labels: { severity: 'critical' } });
    expect(critical.structured.alerts.map((a: any) => a.name)).toEqual(['TargetDown']);
    expect(critical.text).toMatch(/TargetDown\s+firing/);
    const pending = await t.call('prometheus_alerts', { state: 'pending' });
    expect(pending.structured.alerts.map((a: any) => a.name)).toEqual(['PendingForAnHour']);
  });

  it('rules: alerting and recording with state, health and filters', async () => {
    const r = await t.call('prometheus_rules', {});
    expect(r.structured.groups).toBe(2);
    expect(r.structured.total).toBe(5);
    const rec = await t.call('prometheus_rules', { type: 'record' });
    expect(rec.structured.rules).toEqual([
      expect.objectContaining({
        name: 'job:up:sum',
        type: 'record',
        query: 'sum by (job) (up)',
        health: 'ok',
      }),
    ]);
    const inactive = await t.call('prometheus_rules', { state: 'inactive' });
    expect(inactive.structured.rules.map((x: any) => x.name)).toEqual(['NeverFires']);
    const pending = await t.call('prometheus_rules', { name: 'pending' });
    expect(pending.structured.rules[0]).toMatchObject({
      name: 'PendingForAnHour',
      state: 'pending',
      for: 3600,
      activeAlerts: 1,
    });
    expect(pending.text).toMatch(/PendingForAnHour\s+alert\s+pending \(1\)\s+1h/);
    const group = await t.call('prometheus_rules', { group: 'record' });
    expect(group.structured.total).toBe(1);
  });

  it('status: overview, tsdb cardinality and flags', async () => {
    const o = await t.call('prometheus_status', {});
    expect(o.structured.build.version).toMatch(/^2\./);
    expect(o.structured.runtime.reloadConfigSuccess).toBe(true);
    expect(o.structured.tsdb.headSeries).toBeGreaterThan(100);
    expect(o.text).toMatch(/^prometheus 2\.\d+/);
    const tsdb = await t.call('prometheus_status', { section: 'tsdb' });
    expect(tsdb.structured.tsdb.seriesByMetric.length).toBeGreaterThan(3);
    expect(tsdb.text).toContain('metrics with most series:');
    const flags = await t.call('prometheus_status', { section: 'flags', filter: 'retention.time' });
    expect(flags.structured.flags).toEqual({ 'storage.tsdb.retention.time': '2d' });
  });

  it('workspaces is listed only when an instance has sigv4, and refused on the others', async () => {
    await expect(t.call('prometheus_workspaces', {})).rejects.toThrow(/Unknown tool: prometheus_workspaces/);
    const mixed = await connect([
      prometheus({
        instances: {
          plain: { url: prom.url },
          amp: {
            url: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1/',
            sigv4: {
              region: 'eu-west-1',
              accessKeyId: 'AKIDEXAMPLE',
              secretAccessKey: 'example-secret-key-0123456789',
            },
          },
        },
      }),
    ]);
    expect((await mixed.listTools()).map((x) => x.name)).toContain('prometheus_workspaces');
    const r = await mixed.call('prometheus_workspaces', { instance: 'plain' });
    expect(r.errorCode).toBe('not_configured');
    expect(r.text).toContain('instance "plain"');
    await mixed.close();
  });
});

const bytes = (s: string) => Buffer.byteLength(s);

describe('byte budget', () => {
  // ~4.3 KB of PromQL: 120 selectors joined by `or`, 16 series in all
  const longQuery = Array.from({ length: 120 }, (_, i) => `node_cpu_seconds_total{cpu="${i}"}`).join(' or ');

  it.each([
    ['prometheus_query_range', { start: '-2m' }, 'series'],
    ['prometheus_query', {}, 'samples'],
  ])(
    '%s: a 4 KB query with a small maxBytes stays within it and says what was left out',
    async (tool, extra, what) => {
      expect(bytes(longQuery)).toBeGreaterThan(4000);
      let truncated = 0;
      for (const maxBytes of [1024, 1536, 2048, 4096]) {
        const r = await t.call(tool, { query: longQuery, ...extra, maxBytes });
        expect(r.isError, r.text).toBe(false);
        expect(bytes(JSON.stringify(r.structured))).toBeLessThanOrEqual(maxBytes);
        expect(bytes(r.text)).toBeLessThanOrEqual(maxBytes);
        // the echoed query is abbreviated, and says so
        expect(r.structured.queryBytes).toBe(bytes(longQuery));
        expect(r.structured.query).toMatch(
          new RegExp(
            `^node_cpu_seconds_total\\{cpu="0"\\} or .*… \\(query: ${bytes(longQuery)} bytes in all\\)$`,
          ),
        );
        expect(r.text.split('\n')[0]).toContain(`… (query: ${bytes(longQuery)} bytes in all) · 16 ${what}`);
        // rows left out are counted and said
        const rows = r.structured.series ?? r.structured.samples;
        if (maxBytes >= 1536) expect(rows.length).toBeGreaterThan(0);
        expect(r.structured.omitted).toBe(16 - rows.length);
        expect(r.structured.truncated).toBe(rows.length < 16);
        if (rows.length < 16) {
          truncated++;
          expect(r.text).toMatch(
            new RegExp(`\\ntruncated: ${r.structured.omitted} more ${what}; .*narrow with`),
          );
        }
      }
      expect(truncated).toBeGreaterThanOrEqual(2);
    },
  );

  it('a range selector with a long query fits too', async () => {
    const query = Array.from({ length: 120 }, (_, i) => `node_cpu_seconds_total{cpu="${i}"}[10s]`)
      .map((x) => `last_over_time(${x})`)
      .join(' or ');
    const r = await t.call('prometheus_query', { query: `(${query})`, maxBytes: 1024 });
    expect(r.isError, r.text).toBe(false);
    expect(bytes(JSON.stringify(r.structured))).toBeLessThanOrEqual(1024);
    const m = await t.call('prometheus_query', {
      query: `node_cpu_seconds_total{cpu=~"${'0|'.repeat(1500)}1"}[10s]`,
      maxBytes: 1024,
    });
    expect(m.isError, m.text).toBe(false);
    expect(m.structured.resultType).toBe('matrix');
    expect(bytes(JSON.stringify(m.structured))).toBeLessThanOrEqual(1024);
    expect(m.text).toMatch(/\ntruncated: \d+ more series; .*narrow with label matchers/);
  });

  it('format=points with a long query thins the points to what is left', async () => {
    const r = await t.call('prometheus_query_range', {
      query: `up{job="node"} or ${longQuery}`,
      start: 'now-10m',
      step: 1,
      format: 'points',
      maxBytes: 2048,
    });
    expect(r.isError, r.text).toBe(false);
    expect(bytes(JSON.stringify(r.structured))).toBeLessThanOrEqual(2048);
    expect(r.structured.series.length).toBeGreaterThan(0);
    expect(r.structured.series[0].stride).toBeGreaterThan(1);
  });

  it.each([256, 512, 1024, 2048])(
    'no tool answers with more than maxBytes=%i of structured content',
    async (maxBytes) => {
      const calls: [string, Record<string, unknown>][] = [
        ['prometheus_query', { query: '{__name__=~"node_.+"}' }],
        ['prometheus_query', { query: 'node_cpu_seconds_total[10s]' }],
        ['prometheus_query', { query: '"a string"' }],
        ['prometheus_query_range', { query: 'rate(node_cpu_seconds_total[5s])', start: '-2m' }],
        ['prometheus_query_range', { query: 'up', start: '-5m', step: 1, format: 'points' }],
        ['prometheus_series', { match: [`{__name__=~"node_.+", job="${'x|'.repeat(300)}node"}`] }],
        ['prometheus_labels', { match: [`{job=~"${'x|'.repeat(300)}node"}`] }],
        ['prometheus_label_values', { label: '__name__', filter: 'node_' }],
        ['prometheus_metadata', { filter: 'x'.repeat(600) }],
        ['prometheus_metadata', {}],
        ['prometheus_targets', {}],
        ['prometheus_alerts', {}],
        ['prometheus_rules', {}],
        ['prometheus_status', {}],
        ['prometheus_status', { section: 'tsdb' }],
        ['prometheus_status', { section: 'runtime' }],
        ['prometheus_status', { section: 'flags' }],
      ];
      for (const [tool, args] of calls) {
        const r = await t.call(tool, { ...args, maxBytes });
        const what = `${tool} ${JSON.stringify(args).slice(0, 80)}`;
        if (r.isError) {
          // only when even the smallest honest answer does not fit, and then said plainly
          expect(r.errorCode, `${what}: ${r.text}`).toBe('over_budget');
          expect(r.text).toMatch(
            /needs \d+ bytes even trimmed, more than maxBytes=\d+\nhint: raise maxBytes/,
          );
          expect(maxBytes, what).toBeLessThanOrEqual(512);
        } else {
          expect(bytes(JSON.stringify(r.structured)), what).toBeLessThanOrEqual(maxBytes);
        }
      }
    },
  );

  it('an answer that cannot be trimmed to maxBytes is refused with over_budget and a hint', async () => {
    const r = await t.call('prometheus_status', { section: 'overview', maxBytes: 256 });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('over_budget');
    expect(r.text).toMatch(
      /the prometheus_status answer needs \d+ bytes even trimmed, more than maxBytes=256/,
    );
    expect(r.text).toMatch(/hint: raise maxBytes \(e\.g\. maxBytes: \d+\)/);
  });
});

describe('pagination', () => {
  /**
   * Follow nextCursor from the first page to the last: every page within maxBytes and saying how
   * to get the next one; all pages together are the unpaginated list, each item once.
   */
  async function walk(
    tool: string,
    args: Record<string, unknown>,
    list: string,
    total: string,
    key: (item: any) => string,
    maxBytes: number,
  ) {
    const full = await t.call(tool, { ...args, maxBytes: 1_048_576 });
    expect(full.isError, full.text).toBe(false);
    expect(full.structured.truncated).toBe(false);
    expect(full.structured.nextCursor).toBeUndefined();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await t.call(tool, { ...args, maxBytes, ...(cursor ? { cursor } : {}) });
      expect(r.isError, r.text).toBe(false);
      expect(bytes(JSON.stringify(r.structured))).toBeLessThanOrEqual(maxBytes);
      expect(bytes(r.text)).toBeLessThanOrEqual(maxBytes);
      expect(r.structured[total]).toBe(full.structured[total]);
      const items = r.structured[list] as unknown[];
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) seen.push(key(item));
      if (pages > 0) expect(r.structured.offset).toBe(seen.length - items.length);
      cursor = r.structured.nextCursor;
      if (cursor) {
        expect(r.structured.truncated).toBe(true);
        expect(r.text).toContain(
          `truncated: ${r.structured.omitted} more ${list === 'values' ? 'values' : ''}`.trimEnd(),
        );
        // the full notice, or under a tight budget the short one when it leaves room for more items
        expect(r.text).toMatch(
          new RegExp(
            `; (pass )?cursor=${cursor.replace(/[.]/g, '\\.')}( for the next page, or narrow with |$)`,
            'm',
          ),
        );
      } else {
        expect(r.structured.truncated).toBe(false);
        expect(r.structured.omitted).toBe(0);
      }
      pages++;
    } while (cursor && pages < 1000);
    expect(pages).toBeGreaterThan(1);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual((full.structured[list] as unknown[]).map(key));
    expect(seen.length).toBe(full.structured[total]);
    return pages;
  }

  const json = (x: unknown) => JSON.stringify(x);
  const name = (x: any) => `${x.name} ${JSON.stringify(x.labels ?? {})}`;

  it('series', async () => {
    const pages = await walk(
      'prometheus_series',
      { match: ['{job="node", __name__=~"node_.+"}'] },
      'series',
      'seriesCount',
      json,
      1024,
    );
    expect(pages).toBeGreaterThan(5);
  });

  it('label_values', async () => {
    const pages = await walk(
      'prometheus_label_values',
      { label: '__name__', match: ['{job="node"}'] },
      'values',
      'total',
      json,
      700,
    );
    expect(pages).toBeGreaterThan(5);
  });

  it('labels', async () => {
    // pages are filled to the byte: 300 bytes still make several
    const pages = await walk('prometheus_labels', { match: ['{job="node"}'] }, 'labels', 'count', json, 300);
    expect(pages).toBeGreaterThan(2);
  });

  it('metadata', async () => {
    const pages = await walk('prometheus_metadata', { filter: 'node_' }, 'metrics', 'total', json, 1024);
    expect(pages).toBeGreaterThan(5);
  });

  it('targets', async () => {
    await walk('prometheus_targets', {}, 'targets', 'total', (x) => `${x.job} ${x.instance}`, 950);
  });

  it('rules', async () => {
    await walk('prometheus_rules', {}, 'rules', 'total', (x) => `${x.group} ${x.name}`, 700);
  });

  it('alerts', async () => {
    await walk('prometheus_alerts', {}, 'alerts', 'total', name, 1000);
  });

  it('maxBytes may change between pages; the cursor keeps its place', async () => {
    const args = { label: '__name__', match: ['{job="node"}'] };
    const first = await t.call('prometheus_label_values', { ...args, maxBytes: 600 });
    const second = await t.call('prometheus_label_values', {
      ...args,
      maxBytes: 4096,
      cursor: first.structured.nextCursor,
    });
    const full = await t.call('prometheus_label_values', { ...args, maxBytes: 1_048_576 });
    const n = first.structured.values.length;
    expect(second.structured.offset).toBe(n);
    expect(second.structured.values).toEqual(
      full.structured.values.slice(n, n + second.structured.values.length),
    );
    expect(second.structured.values.length).toBeGreaterThan(n);
  });

  it('a cursor reused with other arguments, another tool or garbage is refused with bad_cursor', async () => {
    const first = await t.call('prometheus_series', { match: ['{job="node"}'], maxBytes: 512 });
    const cursor = first.structured.nextCursor;
    expect(cursor).toBeDefined();
    const other = await t.call('prometheus_series', { match: ['{job="prometheus"}'], maxBytes: 512, cursor });
    expect(other.isError).toBe(true);
    expect(other.errorCode).toBe('bad_cursor');
    expect(other.text).toContain('cursor was returned for other arguments');
    expect(other.text).toMatch(/hint: repeat the arguments of the call that returned it/);
    const window = await t.call('prometheus_series', { match: ['{job="node"}'], start: '-5m', cursor });
    expect(window.errorCode).toBe('bad_cursor');
    const tool = await t.call('prometheus_labels', { cursor });
    expect(tool.errorCode).toBe('bad_cursor');
    const instance = await t.call('prometheus_series', {
      instance: 'prefixed',
      match: ['{job="node"}'],
      cursor,
    });
    expect(instance.errorCode).toBe('bad_cursor');
    const garbage = await t.call('prometheus_rules', { cursor: 'not-a-cursor' });
    expect(garbage.errorCode).toBe('bad_cursor');
    expect(garbage.text).toContain('cursor is not one this tool returned');
    // the same arguments are fine
    const same = await t.call('prometheus_series', { match: ['{job="node"}'], maxBytes: 512, cursor });
    expect(same.isError).toBe(false);
  });

  it('a cursor past the end (the list shrank) gives an empty last page', async () => {
    const rules = await t.call('prometheus_rules', { maxBytes: 700 });
    const cursor = rules.structured.nextCursor as string;
    // <offset>.<fingerprint>: the same list, an offset past its end
    const past = cursor.replace(/^\d+/, '99');
    const r = await t.call('prometheus_rules', { maxBytes: 700, cursor: past });
    expect(r.isError).toBe(false);
    expect(r.structured.rules).toEqual([]);
    expect(r.structured.nextCursor).toBeUndefined();
    expect(r.text).toContain('none from 6 (the list has 5 now)');
  });
});

describe('instances and failures', () => {
  it('a second instance with a trailing-slash URL works the same', async () => {
    const r = await t.call('prometheus_query', { instance: 'prefixed', query: 'up{job="node"}' });
    expect(r.isError).toBe(false);
    expect(r.structured.samples[0].value).toBe(1);
  });

  it('unknown instance is refused with the valid names', async () => {
    const r = await t.call('prometheus_query', { instance: 'nope', query: 'up' });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('invalid_arguments');
    expect(r.text).toContain('main');
  });

  it('an unreachable instance gives backend_unreachable naming it', async () => {
    const r = await t.call('prometheus_query', { instance: 'gone', query: 'up' });
    expect(r.errorCode).toBe('backend_unreachable');
    expect(r.text).toContain(`instance "gone" at http://127.0.0.1:${unusedPort}/: ECONNREFUSED`);
    expect(t.audit.records.at(-1)).toMatchObject({
      tool: 'prometheus_query',
      instance: 'gone',
      outcome: 'error',
      errorCode: 'backend_unreachable',
    });
  });

  it('a hung instance times out after its timeoutMs', async () => {
    const started = Date.now();
    const r = await t.call('prometheus_query_range', { instance: 'hung', query: 'up' });
    expect(r.errorCode).toBe('timeout');
    expect(r.text).toContain('did not answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('the server-wide timeout cancels the HTTP request itself', async () => {
    const opened: number[] = [];
    const closed: number[] = [];
    const hang = createTcpServer((socket) => {
      opened.push(Date.now());
      socket.resume(); // read (and drop) the request so the client's close is seen
      socket.on('close', () => closed.push(Date.now()));
    });
    await new Promise<void>((resolve) => hang.listen(0, '127.0.0.1', resolve));
    const port = (hang.address() as { port: number }).port;
    const c = await connect([prometheus({ url: `http://127.0.0.1:${port}`, timeoutMs: 60_000 })], {
      timeoutMs: 250,
    });
    const r = await c.call('prometheus_query', { query: 'up' });
    expect(r.errorCode).toBe('timeout');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(opened).toHaveLength(1);
    expect(closed).toHaveLength(1); // the socket to the backend was closed, not left hanging
    await c.close();
    hang.close();
  });

  it('prompts chain the tools', async () => {
    const { prompts } = await t.client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual([
      'prometheus_investigate_alert',
      'prometheus_scrape_health',
    ]);
    const tools = new Set((await t.listTools()).map((x) => x.name));
    const got = await t.client.getPrompt({
      name: 'prometheus_investigate_alert',
      arguments: { alert: 'TargetDown' },
    });
    const text = (got.messages[0]!.content as { text: string }).text;
    expect(text).toContain('"TargetDown"');
    for (const name of text.match(/prometheus_[a-z_]+/g)!) expect(tools.has(name), name).toBe(true);
  });

  it('server health reports every instance', async () => {
    const health = await t.server.health();
    const byName = Object.fromEntries(health.map((h) => [h.instance, h.report]));
    expect(byName.main.ok).toBe(true);
    expect(byName.main.message).toMatch(/^prometheus 2\./);
    expect(byName.gone.ok).toBe(false);
    expect(byName.gone.message).toContain('ECONNREFUSED');
  });
});
