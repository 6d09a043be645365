import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RejectionLog, type RunningHttp, serveHttp } from '../src/http.js';
import { createServer, type InfraMcpServer, MemoryAuditSink } from '../src/index.js';
import { kv } from './fixture-plugin.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const TOKEN = 'test-token-0123456789abcdef';
let app: InfraMcpServer;
let http: RunningHttp;
const audit = new MemoryAuditSink();

beforeAll(async () => {
  app = createServer({ plugins: [kv({ url: 'http://kv.local' })], audit: [audit], logger: quiet, env: {} });
  http = await serveHttp(app, { port: 0, tokens: { alice: TOKEN }, maxBodyBytes: 4096 });
});
afterAll(async () => {
  await http.close();
  await app.close();
});

const rpc = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(http.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${TOKEN}`,
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const init = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

describe('Streamable HTTP', () => {
  it('serves MCP to the SDK client, statelessly, with the caller identity in the audit record', async () => {
    const client = new Client({ name: 'http-test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(http.url), {
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      }),
    );
    const tools = await client.listTools();
    expect(tools.tools.map((t) => t.name)).toEqual(['kv_delete', 'kv_get', 'kv_set']);
    const r: any = await client.callTool({ name: 'kv_get', arguments: { key: 'a' } });
    expect(r.structuredContent).toEqual({ key: 'a', value: '1' });
    expect(audit.records.at(-1)).toMatchObject({ tool: 'kv_get', caller: 'alice', outcome: 'ok' });
    await client.close();
  });

  it('rejects a missing or wrong bearer token with 401 and WWW-Authenticate', async () => {
    const none = await rpc(init, { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="infra-mcp"');
    const wrong = await rpc(init, { authorization: 'Bearer not-the-token-at-all-xxxx' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(((await wrong.json()) as any).error.message).toMatch(/invalid bearer token/);
  });

  it('rejects a foreign Host or Origin (DNS rebinding protection)', async () => {
    // fetch cannot set Host; node:http can
    const host = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        http.url,
        {
          method: 'POST',
          headers: {
            host: 'evil.example.com',
            'content-type': 'application/json',
            authorization: `Bearer ${TOKEN}`,
          },
        },
        (res) => {
          let body = '';
          res.on('data', (c) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(init));
    });
    expect(host.status).toBe(403);
    expect(JSON.parse(host.body).error.message).toMatch(/Host header "evil.example.com" is not allowed/);
    const origin = await rpc(init, { origin: 'https://evil.example.com' });
    expect(origin.status).toBe(403);
    const local = await rpc(init, { origin: 'http://localhost:5173' });
    expect(local.status).toBe(200);
  });

  it('rejects an oversized body with 413 and stays up', async () => {
    const big = await rpc({ ...init, params: { ...init.params, pad: 'x'.repeat(10_000) } });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error.message).toMatch(/limit is 4096 bytes/);
    expect((await fetch(http.url.replace('/mcp', '/healthz'))).status).toBe(200);
  });

  it('answers malformed JSON with a JSON-RPC parse error', async () => {
    const r = await rpc('{not json');
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).error.code).toBe(-32700);
  });

  it('is stateless: GET is refused with 405', async () => {
    const r = await fetch(http.url, {
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/event-stream' },
    });
    expect(r.status).toBe(405);
  });

  it('serves /healthz, /readyz (plugin health) and /metrics (calls, errors, latency per tool)', async () => {
    const base = http.url.replace('/mcp', '');
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok\n');
    const ready = await fetch(`${base}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      checks: [{ plugin: 'kv', instance: 'default', ok: true, message: '1 keys' }],
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/infra_mcp_tool_calls_total\{tool="kv_get",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/infra_mcp_tool_call_duration_seconds_bucket\{tool="kv_get",le="\+Inf"\} \d+/);
    expect(metrics).toMatch(/infra_mcp_tool_errors_total\{tool="kv_get"\} 0/);
  });

  it('refuses to listen on a non-loopback address without tokens', async () => {
    await expect(serveHttp(app, { host: '0.0.0.0', port: 0 })).rejects.toThrow(/without bearer tokens/);
  });
});

describe('Streamable HTTP: probes and metrics', () => {
  const get = (path: string, host: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(http.url.replace('/mcp', path), { headers: { host } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('answers /healthz and /readyz whatever the Host (kubelet probes the pod IP), but not /mcp', async () => {
    expect((await get('/healthz', '10.1.2.3:3000')).status).toBe(200);
    const ready = await get('/readyz', '10.1.2.3:3000');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true });
    expect((await get('/mcp', '10.1.2.3:3000')).status).toBe(403);
  });

  it('labels unknown tool names as (unknown): no metric injection, no unbounded series', async () => {
    await rpc({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'bad"} 1\ninjected{x="', arguments: {} },
    });
    const metrics = await (await fetch(http.url.replace('/mcp', '/metrics'))).text();
    expect(metrics).not.toMatch(/injected/);
    expect(metrics).toMatch(/infra_mcp_tool_calls_total\{tool="\(unknown\)",outcome="denied"\} 1/);
  });
});

describe('Streamable HTTP: rejected requests, body deadline, readiness details', () => {
  let app2: InfraMcpServer;
  let http2: RunningHttp;
  const warnings: string[] = [];

  beforeAll(async () => {
    app2 = createServer({
      plugins: [kv({ instances: { up: { url: 'http://kv.local' }, down: { url: 'http://broken.local' } } })],
      audit: [new MemoryAuditSink()],
      logger: { ...quiet, warn: (m: string) => warnings.push(m) },
      env: {},
    });
    http2 = await serveHttp(app2, {
      port: 0,
      tokens: { alice: TOKEN },
      maxBodyBytes: 4096,
      bodyTimeoutMs: 300,
      rejectLogIntervalMs: 60_000,
    });
  });
  afterAll(async () => {
    await http2.close();
    await app2.close();
  });

  const post = (headers: Record<string, string>, body = JSON.stringify(init)) =>
    fetch(http2.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body,
    });
  const metric = async (reason: string) => {
    const text = await (await fetch(http2.url.replace('/mcp', '/metrics'))).text();
    const m = new RegExp(`^infra_mcp_http_rejected_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };

  it('counts rejections by reason on /metrics and logs one line per reason per interval, with the number not logged', async () => {
    expect(await metric('invalid_token')).toBe(0);
    for (let i = 0; i < 5; i++) expect((await post({ authorization: `Bearer wrong-${i}` })).status).toBe(401);
    expect((await post({})).status).toBe(401);
    expect((await post({ authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' })).status).toBe(
      403,
    );
    expect((await post({ authorization: `Bearer ${TOKEN}` }, 'x'.repeat(5000))).status).toBe(413);
    expect(await metric('invalid_token')).toBe(5);
    expect(await metric('missing_token')).toBe(1);
    expect(await metric('origin')).toBe(1);
    expect(await metric('body_too_large')).toBe(1);
    expect(await metric('host')).toBe(0);
    const invalid = warnings.filter((w) => w.includes('(invalid_token)'));
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatch(
      /^http: rejected request \(invalid_token\) from 127\.0\.0\.1: invalid bearer token$/,
    );
    expect(warnings.filter((w) => w.includes('(missing_token)'))).toHaveLength(1);
    // the presented token never appears in the log
    expect(warnings.join('\n')).not.toContain('wrong-');
  });

  it('cuts off a client that sends its body slowly (408 at the body deadline, connection closed)', async () => {
    const { connect: tcp } = await import('node:net');
    const port = http2.port;
    const started = Date.now();
    const result = await new Promise<{ response: string; closedAfterMs: number }>((resolve, reject) => {
      const socket = tcp(port, '127.0.0.1');
      let response = '';
      let drip: NodeJS.Timeout | undefined;
      socket.on('connect', () => {
        socket.write(
          `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{`,
        );
        // one byte every 50 ms: 1000 bytes would take 50 s
        drip = setInterval(() => {
          if (!socket.destroyed) socket.write(' ');
        }, 50);
      });
      socket.on('data', (d) => {
        response += d.toString();
      });
      socket.on('error', () => {}); // writes after the server closed
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ response, closedAfterMs: Date.now() - started });
      });
      setTimeout(() => reject(new Error('the slow client was not cut off within 5 s')), 5000);
    });
    expect(result.response).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.response).toContain('the body was not received within 0.3 s');
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(250);
    expect(result.closedAfterMs).toBeLessThan(3000);
    expect(await metric('body_timeout')).toBe(1);
    // a normal client is unaffected
    expect((await post({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });

  it('/readyz says only ready or not to anyone; backend details need a valid token', async () => {
    const base = http2.url.replace('/mcp', '');
    const anonymous = await fetch(`${base}/readyz`);
    expect(anonymous.status).toBe(503);
    expect(await anonymous.json()).toEqual({ ready: false });
    const wrong = await fetch(`${base}/readyz`, { headers: { authorization: 'Bearer nope' } });
    expect(await wrong.json()).toEqual({ ready: false });
    const authorized = await fetch(`${base}/readyz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(authorized.status).toBe(503);
    const body = (await authorized.json()) as any;
    expect(body.ready).toBe(false);
    expect(body.checks).toEqual([
      { plugin: 'kv', instance: 'up', ok: true, message: '1 keys' },
      expect.objectContaining({ plugin: 'kv', instance: 'down', ok: false }),
    ]);
    expect(body.checks[1].message).toContain('broken.local');
  });
});

describe('RejectionLog', () => {
  it('logs the first rejection of a reason, holds the rest for the interval, then says how many were not logged', () => {
    const lines: string[] = [];
    let now = 1_000_000;
    const log = new RejectionLog(
      (l) => lines.push(l),
      60_000,
      () => now,
    );
    log.reject('invalid_token', 'invalid bearer token', '10.0.0.1');
    for (let i = 0; i < 41; i++) {
      now += 1000;
      log.reject('invalid_token', 'invalid bearer token', '10.0.0.1');
    }
    log.reject('host', 'Host header "evil"', '10.0.0.2'); // another reason has its own budget
    expect(lines).toEqual([
      'http: rejected request (invalid_token) from 10.0.0.1: invalid bearer token',
      'http: rejected request (host) from 10.0.0.2: Host header "evil"',
    ]);
    now += 20_000;
    log.reject('invalid_token', 'invalid bearer token', '10.0.0.3');
    expect(lines[2]).toBe(
      'http: rejected request (invalid_token) from 10.0.0.3: invalid bearer token; 41 more invalid_token rejections not logged in the last 61 s',
    );
    expect(log.count('invalid_token')).toBe(43);
    expect(log.render()).toContain('infra_mcp_http_rejected_total{reason="invalid_token"} 43');
  });
});
