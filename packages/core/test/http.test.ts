import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttp, serveHttp } from '../src/http.js';
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
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ok: true,
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
    expect((await get('/readyz', '10.1.2.3:3000')).status).toBe(200);
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
