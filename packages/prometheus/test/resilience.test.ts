/**
 * core's breaker, retries and discovery cache on the Prometheus client, against the real Prometheus
 * behind a gateway that fails on purpose (proxy.ts `fail`). Time is a test clock: no real waits.
 */
import type { Clock } from '@infra-mcp/core';
import { connect, type TestClient } from '@infra-mcp/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { prometheus } from '../src/index.js';
import { type PrometheusServer, startPrometheus } from './prometheus-server.js';
import { startProxy, type TestProxy } from './proxy.js';

let prom: PrometheusServer;
let proxy: TestProxy;
const fail: (number | 'drop')[] = [];
let now = Date.now();
const clock: Clock = {
  now: () => now,
  sleep: async (ms) => {
    now += ms;
  },
  random: () => 0.5,
};

beforeAll(async () => {
  prom = await startPrometheus({ minScrapes: 1 });
  proxy = await startProxy({ upstream: prom.url, fail });
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await prom?.stop();
});
afterEach(() => {
  fail.length = 0;
  proxy.requests.length = 0;
});

function serve(resilience = {}): Promise<TestClient> {
  return connect([prometheus({ url: proxy.url })], { resilience: { clock, ...resilience } });
}

const paths = () => proxy.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`);

describe('retries against Prometheus', () => {
  it('a GET that meets 503 and a dropped connection is sent again and answers with real data', async () => {
    const t = await serve();
    fail.push(503, 'drop');
    const r = await t.call('prometheus_metadata', { metric: 'node_cpu_seconds_total' });
    expect(r.isError).toBe(false);
    expect(r.text).toContain('node_cpu_seconds_total');
    expect(paths()).toEqual(Array(3).fill('GET /api/v1/metadata'));
    expect(t.server.metrics.render()).toContain(
      'infra_mcp_backend_retries_total{plugin="prometheus",instance="default"} 2',
    );
    await t.close();
  });

  it('a POST query that meets 503 is never sent again', async () => {
    const t = await serve();
    fail.push(503);
    const r = await t.call('prometheus_query', { query: 'up' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/HTTP 503/);
    expect(paths()).toEqual(['POST /api/v1/query']);
    await t.close();
  });
});

describe('circuit breaker against Prometheus', () => {
  it('opens after consecutive gateway failures, says until when, and closes when the probe succeeds', async () => {
    const t = await serve({ breaker: { failures: 2, cooldownMs: 30_000 }, retry: false });
    fail.push(502, 502);
    await t.call('prometheus_query', { query: 'up' });
    await t.call('prometheus_query', { query: 'up' });
    const since = new Date(now).toISOString();
    const refused = await t.call('prometheus_query', { query: 'up' });
    expect(refused.errorCode).toBe('backend_unavailable');
    expect(refused.text).toContain(
      `backend prometheus/default unavailable since ${since} after 2 failures; retrying at ${new Date(now + 30_000).toISOString()}`,
    );
    expect(proxy.requests).toHaveLength(2);
    now += 30_000;
    const probe = await t.call('prometheus_query', { query: 'up' });
    expect(probe.isError).toBe(false);
    expect(probe.text).toMatch(/up/);
    expect(t.server.metrics.render()).toContain(
      'infra_mcp_backend_breaker_state{plugin="prometheus",instance="default",state="closed"} 1',
    );
    await t.close();
  });

  it('a bad query (HTTP 400) does not count as the backend failing', async () => {
    const t = await serve({ breaker: { failures: 1, cooldownMs: 30_000 } });
    expect((await t.call('prometheus_query', { query: 'sum(' })).errorCode).toBe('bad_query');
    expect((await t.call('prometheus_query', { query: 'up' })).isError).toBe(false);
    await t.close();
  });
});

describe('discovery cache on Prometheus', () => {
  it('label names and metadata are read once per TTL', async () => {
    const t = await serve({ cache: { ttlMs: 60_000, max: 100 } });
    const first = await t.call('prometheus_labels', {});
    const again = await t.call('prometheus_labels', {});
    expect(again.structured).toEqual(first.structured);
    expect(first.text).toContain('__name__');
    await t.call('prometheus_metadata', { metric: 'up' });
    await t.call('prometheus_metadata', { metric: 'up' });
    expect(paths()).toEqual(['POST /api/v1/labels', 'GET /api/v1/metadata']);
    now += 60_001;
    await t.call('prometheus_labels', {});
    expect(paths()).toHaveLength(3);
    const metrics = t.server.metrics.render();
    expect(metrics).toContain(
      'infra_mcp_cache_requests_total{plugin="prometheus",instance="default",result="hit"} 2',
    );
    expect(metrics).toContain(
      'infra_mcp_cache_requests_total{plugin="prometheus",instance="default",result="miss"} 3',
    );
    await t.close();
  });
});
