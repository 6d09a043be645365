import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type TestClient } from '@infra-mcp/testing';
import { propagation, type TracerProvider } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  TracerProvider as SdkTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Clock, ResilienceOptions } from '../src/index.js';
import { kv } from './fixture-plugin.js';
import { web } from './web-plugin.js';

/** A loopback backend whose answers the test scripts: a status per request, or a dropped connection. */
interface Backend {
  url: string;
  seen: string[];
  /** What the next requests get, first to last; once empty: 200 "ok <path>". */
  script: (number | 'drop')[];
  close(): Promise<void>;
}

async function startBackend(): Promise<Backend> {
  const seen: string[] = [];
  const script: (number | 'drop')[] = [];
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const next = script.shift() ?? 200;
    if (next === 'drop') {
      req.socket.destroy();
      return;
    }
    res.writeHead(next, { 'content-type': 'text/plain' });
    res.end(next === 200 ? `ok ${req.url}` : `status ${next}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    script,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Time moves only when a retry waits or the test says so. */
function testClock(): Clock & { advance(ms: number): void; waits: number[] } {
  let now = Date.now();
  const waits: number[] = [];
  return {
    now: () => now,
    sleep: async (ms) => {
      waits.push(ms);
      now += ms;
    },
    random: () => 1,
    advance: (ms) => {
      now += ms;
    },
    waits,
  };
}

const exporter = new InMemorySpanExporter();
const provider = new SdkTracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let backend: Backend;
let clock: ReturnType<typeof testClock>;

beforeAll(async () => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  backend = await startBackend();
});
afterAll(async () => {
  propagation.disable();
  await backend.close();
  await provider.shutdown();
});
beforeEach(() => {
  exporter.reset();
  backend.seen.length = 0;
  backend.script.length = 0;
  clock = testClock();
});

async function serve(resilience: ResilienceOptions = {}, timeoutMs?: number): Promise<TestClient> {
  return connect([web({ url: backend.url }), kv({ url: 'http://kv.local' })], {
    resilience: { clock, tracerProvider: provider as TracerProvider, ...resilience },
    ...(timeoutMs ? { timeoutMs } : {}),
  });
}

const spans = () => exporter.getFinishedSpans();
const named = (name: string) => spans().filter((s) => s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('tracing', () => {
  it('records a span per tool call with the backend request as its child, under the client traceparent', async () => {
    const t = await serve();
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const clientSpan = 'b7ad6b7169203331';
    const r = await t.client.callTool({
      name: 'web_get',
      arguments: { path: '/api/x' },
      _meta: { traceparent: `00-${traceId}-${clientSpan}-01` },
    });
    expect(r.isError).toBeFalsy();
    const [call] = named('tools/call web_get');
    const [request] = named('GET /api/x');
    expect(call!.spanContext().traceId).toBe(traceId);
    expect(parentOf(call!)).toBe(clientSpan);
    expect(request!.spanContext().traceId).toBe(traceId);
    expect(parentOf(request!)).toBe(call!.spanContext().spanId);
    expect(call!.attributes).toMatchObject({
      'infra_mcp.tool': 'web_get',
      'infra_mcp.plugin': 'web',
      'infra_mcp.instance': 'default',
      'infra_mcp.outcome': 'ok',
      'infra_mcp.is_error': false,
      'infra_mcp.dry_run': false,
      'infra_mcp.approved': false,
    });
    expect(request!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'infra_mcp.instance': 'default',
    });
    await t.close();
  });

  it('starts a new trace without a traceparent, and names the caller', async () => {
    const t = await serve();
    await t.server.callTool('web_get', {}, { caller: 'alice' });
    const [call] = named('tools/call web_get');
    expect(parentOf(call!)).toBeUndefined();
    expect(call!.attributes['infra_mcp.caller']).toBe('alice');
    await t.close();
  });

  it('marks dry runs, approved runs and errors', async () => {
    const t = await serve();
    const dry = await t.call('kv_set', { key: 'b', value: '2' });
    await t.call('kv_set', { key: 'b', value: '2', approval: dry.structured.approval });
    await t.call('kv_get', { key: 'fail' });
    const [plan, run] = named('tools/call kv_set');
    expect(plan!.attributes).toMatchObject({ 'infra_mcp.dry_run': true, 'infra_mcp.approved': false });
    expect(run!.attributes).toMatchObject({ 'infra_mcp.dry_run': false, 'infra_mcp.approved': true });
    const [failed] = named('tools/call kv_get');
    expect(failed!.attributes).toMatchObject({
      'infra_mcp.is_error': true,
      'infra_mcp.outcome': 'error',
      'error.type': 'no_such_key',
    });
    expect(failed!.status.code).toBe(2); // SpanStatusCode.ERROR
    await t.close();
  });
});

describe('retries', () => {
  it('retries a GET after 503 and a dropped connection, and the call succeeds', async () => {
    const t = await serve();
    backend.script.push(503, 'drop');
    const r = await t.call('web_get', { path: '/flaky' });
    expect(r.isError).toBe(false);
    expect(r.structured.body).toBe('ok /flaky');
    expect(backend.seen).toEqual(['GET /flaky', 'GET /flaky', 'GET /flaky']);
    // exponential backoff (random() = 1: the full bound): 200 ms, then 400 ms
    expect(clock.waits).toEqual([200, 400]);
    const attempts = named('GET /flaky');
    expect(attempts.map((s) => s.attributes['http.request.resend_count'] ?? 0)).toEqual([0, 1, 2]);
    expect(t.server.metrics.render()).toContain(
      'infra_mcp_backend_retries_total{plugin="web",instance="default"} 2',
    );
    await t.close();
  });

  it('never retries a POST', async () => {
    const t = await serve();
    backend.script.push(503);
    const r = await t.call('web_post', { path: '/once' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/POST \/once answered 503/);
    expect(backend.seen).toEqual(['POST /once']);
    await t.close();
  });

  it('gives up after the configured attempts, and never waits past the call deadline', async () => {
    const t = await serve({ retry: { attempts: 2, baseMs: 100 } });
    backend.script.push(503, 503, 503);
    const r = await t.call('web_get', { path: '/down' });
    expect(r.text).toMatch(/answered 503/);
    expect(backend.seen).toHaveLength(2);
    await t.close();

    // a 1 s call: a 2 s backoff would end after its deadline, so the first answer stands
    backend.seen.length = 0;
    backend.script.length = 0;
    const short = await serve({ retry: { attempts: 3, baseMs: 2000 } }, 1000);
    backend.script.push(503, 503);
    const s = await short.call('web_get', { path: '/late' });
    expect(s.text).toMatch(/answered 503/);
    expect(backend.seen).toEqual(['GET /late']);
    await short.close();
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, answers clearly, probes after the cooldown and closes', async () => {
    const t = await serve({ breaker: { failures: 3, cooldownMs: 60_000 }, retry: false });
    backend.script.push(502, 502, 502);
    for (let i = 0; i < 3; i++) expect((await t.call('web_get')).text).toMatch(/answered 502/);
    const opened = new Date(clock.now()).toISOString();
    const refused = await t.call('web_get');
    expect(refused.isError).toBe(true);
    expect(refused.errorCode).toBe('backend_unavailable');
    expect(refused.text).toContain(
      `backend web/default unavailable since ${opened} after 3 failures; retrying at ${new Date(clock.now() + 60_000).toISOString()}`,
    );
    expect(backend.seen).toHaveLength(3); // the open breaker did not send it
    let metrics = t.server.metrics.render();
    expect(metrics).toContain(
      'infra_mcp_backend_breaker_state{plugin="web",instance="default",state="open"} 1',
    );
    expect(metrics).toContain('infra_mcp_backend_breaker_opened_total{plugin="web",instance="default"} 1');
    expect(metrics).toContain(
      'infra_mcp_backend_requests_total{plugin="web",instance="default",outcome="unavailable"} 1',
    );

    // after the cooldown one probe goes through; the backend is back: closed again
    clock.advance(60_000);
    const probe = await t.call('web_get', { path: '/back' });
    expect(probe.structured.body).toBe('ok /back');
    expect((await t.call('web_get', { path: '/again' })).isError).toBe(false);
    metrics = t.server.metrics.render();
    expect(metrics).toContain(
      'infra_mcp_backend_breaker_state{plugin="web",instance="default",state="closed"} 1',
    );
    await t.close();
  });

  it('a failed probe opens it for another cooldown; 4xx answers do not count', async () => {
    const t = await serve({ breaker: { failures: 2, cooldownMs: 1000 }, retry: false });
    backend.script.push(404, 404, 404, 503, 503);
    for (let i = 0; i < 3; i++) await t.call('web_get');
    expect(t.server.metrics.render()).toContain('state="closed"} 1');
    await t.call('web_get');
    await t.call('web_get');
    const since = new Date(clock.now()).toISOString();
    clock.advance(1000);
    backend.script.push(503);
    expect((await t.call('web_get')).text).toMatch(/answered 503/); // the probe
    const r = await t.call('web_get');
    expect(r.text).toContain(`unavailable since ${since} after 3 failures`);
    await t.close();
  });
});

describe('discovery cache', () => {
  it('serves a discovery read from the cache until its TTL, with hits and misses on /metrics', async () => {
    const t = await serve({ cache: { ttlMs: 10_000, max: 10 } });
    const first = await t.call('web_labels', { path: '/labels' });
    const second = await t.call('web_labels', { path: '/labels' });
    expect(second.structured).toEqual(first.structured);
    expect(backend.seen).toEqual(['GET /labels']);
    clock.advance(10_001);
    await t.call('web_labels', { path: '/labels' });
    expect(backend.seen).toEqual(['GET /labels', 'GET /labels']);
    const metrics = t.server.metrics.render();
    expect(metrics).toContain(
      'infra_mcp_cache_requests_total{plugin="web",instance="default",result="hit"} 1',
    );
    expect(metrics).toContain(
      'infra_mcp_cache_requests_total{plugin="web",instance="default",result="miss"} 2',
    );
    await t.close();
  });

  it('does not cache a failed read', async () => {
    const t = await serve({ retry: false });
    backend.script.push(500);
    expect((await t.call('web_labels', { path: '/l' })).isError).toBe(true);
    expect((await t.call('web_labels', { path: '/l' })).isError).toBe(false);
    expect(backend.seen).toHaveLength(2);
    await t.close();
  });
});
