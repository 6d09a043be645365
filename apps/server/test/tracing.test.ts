import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@infra-mcp/core';
import { connect } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { run } from './cli-helpers.js';
import { cliPath, requireBuilt } from './helpers/app-process.js';

/** An OTLP/HTTP receiver on loopback: keeps each export request's JSON body. */
interface Receiver {
  url: string;
  bodies: any[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const bodies: any[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces')
        bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Every span the receiver got, with its resource's service.name. */
function received(r: Receiver) {
  return r.bodies.flatMap((b) =>
    b.resourceSpans.flatMap((rs: any) => {
      const service = rs.resource.attributes.find((a: any) => a.key === 'service.name')?.value.stringValue;
      return rs.scopeSpans.flatMap((ss: any) =>
        ss.spans.map((s: any) => ({
          service,
          name: s.name as string,
          traceId: s.traceId as string,
          spanId: s.spanId as string,
          parentSpanId: s.parentSpanId as string | undefined,
          attributes: Object.fromEntries(s.attributes.map((a: any) => [a.key, Object.values(a.value)[0]])),
        })),
      );
    }),
  );
}

let dir: string;
let receiver: Receiver;
let deadPort: number;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-tracing-'));
  receiver = await startReceiver();
  const s = http.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  deadPort = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
});
afterAll(async () => {
  await receiver.close();
});

async function config(name: string, yaml: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, yaml);
  return file;
}

describe('tracing config', () => {
  it('is off by default, and OTEL_EXPORTER_OTLP_ENDPOINT turns it on', async () => {
    const off = await loadConfig({ pluginModules: [] }, {}, dir);
    expect(off.config.tracing).toEqual({ serviceName: 'infra-mcp', sampleRatio: 1 });
    expect(off.config.resilience).toEqual({
      breaker: { failures: 5, cooldownMs: 30_000 },
      retry: { attempts: 3, baseMs: 200, maxMs: 2000 },
      cache: { max: 1000, ttlMs: 30_000 },
    });
    const on = await loadConfig(
      { pluginModules: [] },
      { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/', OTEL_SERVICE_NAME: 'mcp-prod' },
      dir,
    );
    expect(on.config.tracing).toMatchObject({
      otlpEndpoint: 'http://collector:4318/v1/traces',
      serviceName: 'mcp-prod',
    });
  });

  it('refuses bad values with what was wrong and how to fix it', async () => {
    const bad = async (yaml: string) =>
      loadConfig({ config: await config('bad.yaml', yaml), pluginModules: [] }, {}, dir).then(
        () => '',
        (e: Error) => (e instanceof ConfigError ? e.message : `not a ConfigError: ${e.message}`),
      );
    expect(await bad('tracing:\n  sampleRatio: 2\n')).toMatch(/tracing\.sampleRatio/);
    expect(await bad('tracing:\n  otlpEndpoint: ftp://collector\n')).toMatch(
      /tracing\.otlpEndpoint.*http:\/\/ or https:\/\/ URL/s,
    );
    expect(await bad('resilience:\n  retry:\n    baseMs: 500\n    maxMs: 100\n')).toMatch(
      /resilience\.retry\.maxMs.*maxMs must be at least baseMs/s,
    );
    expect(await bad('resilience:\n  breaker:\n    failures: 0\n')).toMatch(/resilience\.breaker/);
    await expect(
      loadConfig({ pluginModules: [] }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, dir),
    ).rejects.toThrow(/env OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:\/\/ or https:\/\/ URL/);
  });
});

describe('OTLP export', () => {
  it('sends the spans of a call to the configured endpoint, under the client traceparent, and counts them on /metrics', async () => {
    const file = await config(
      'tracing.yaml',
      [
        `audit: { file: ${join(dir, 'audit.jsonl')}, keyFile: ${join(dir, 'audit.key')} }`,
        `plugins: { prometheus: { url: "http://127.0.0.1:${deadPort}" } }`,
        `tracing: { otlpEndpoint: "${receiver.url}/v1/traces", serviceName: infra-mcp-test }`,
        'resilience: { retry: { attempts: 2, baseMs: 1, maxMs: 1 } }',
      ].join('\n'),
    );
    const app = await buildApp({ config: file, pluginModules: [] }, {}, 'error');
    const t = await connect(app.server);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await t.client.callTool({
      name: 'prometheus_metadata',
      arguments: {},
      _meta: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(r.isError).toBe(true); // nothing listens there: the GET was tried twice
    await t.close(); // flushes the exporter
    const spans = received(receiver).filter((s) => s.traceId === traceId);
    const call = spans.find((s) => s.name === 'tools/call prometheus_metadata')!;
    expect(call).toMatchObject({
      service: 'infra-mcp-test',
      parentSpanId: '00f067aa0ba902b7',
      attributes: {
        'infra_mcp.instance': 'default',
        'infra_mcp.is_error': true,
        'error.type': 'backend_unreachable',
      },
    });
    const gets = spans.filter((s) => s.name === 'GET /api/v1/metadata');
    expect(gets).toHaveLength(2);
    for (const g of gets) expect(g.parentSpanId).toBe(call.spanId);
    expect(app.server.metrics.render()).toContain('infra_mcp_trace_spans_exported_total{result="ok"} 3');
  });

  it('the built CLI exports spans from its bundle when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    requireBuilt(cliPath);
    const before = receiver.bodies.length;
    const env = {
      PROMETHEUS_URL: `http://127.0.0.1:${deadPort}`,
      INFRA_MCP_AUDIT_FILE: join(dir, 'cli.jsonl'),
      XDG_CONFIG_HOME: dir,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    };
    const res = await run(['call', 'prometheus_labels', '{}'], { env });
    expect(res.stdout).toContain('backend_unreachable');
    const names = received({ ...receiver, bodies: receiver.bodies.slice(before) }).map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['tools/call prometheus_labels', 'POST /api/v1/labels']));
  });
});
