import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type HttpOptions, type RunningHttp, serveHttp } from '../src/http.js';
import {
  type CreateServerOptions,
  createServer,
  definePlugin,
  defineTool,
  type InfraMcpServer,
  MemoryAuditSink,
} from '../src/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const ALICE = 'alice-token-0123456789abcdef';
const BOB = 'bob-token-0123456789abcdef';

/** Calls to `hold` wait until the test releases them; `big` answers a large, repetitive text. */
let releaseHeld: () => void = () => {};
let held = new Promise<void>((r) => (releaseHeld = r));
const resetHold = () => {
  held = new Promise<void>((r) => (releaseHeld = r));
};
const demo = definePlugin({
  id: 'demo',
  title: 'Demo',
  description: 'HTTP hardening tests',
  version: '0.0.0',
  config: z.object({}),
  setup: async () => ({}),
  tools: [
    defineTool({
      name: 'hold',
      description: 'Wait until released; with `announce`, first report progress with a long message',
      input: z.object({ announce: z.boolean().optional().describe('report progress first') }),
      output: z.object({ released: z.boolean() }),
      effect: 'read',
      run: async ({ announce }, ctx) => {
        if (announce) await ctx.progress(1, 2, `started: ${'progress detail '.repeat(100)}`);
        await held;
        return { data: { released: true } };
      },
    }),
    defineTool({
      name: 'big',
      description: 'A large answer',
      input: z.object({}),
      output: z.object({ lines: z.number() }),
      effect: 'read',
      run: async () => ({
        data: { lines: 200 },
        text: Array.from(
          { length: 200 },
          (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog`,
        ).join('\n'),
      }),
    }),
  ],
});

interface Setup {
  app: InfraMcpServer;
  http: RunningHttp;
  audit: MemoryAuditSink;
}
const running: Setup[] = [];
async function start(http: HttpOptions, app: Partial<CreateServerOptions> = {}): Promise<Setup> {
  const audit = new MemoryAuditSink();
  const server = createServer({ plugins: [demo()], audit: [audit], logger: quiet, env: {}, ...app });
  const s = { app: server, audit, http: await serveHttp(server, { port: 0, ...http }) };
  running.push(s);
  return s;
}
afterEach(async () => {
  releaseHeld();
  resetHold();
  for (const s of running.splice(0)) {
    await s.http.close();
    await s.app.close();
  }
});

const call = (url: string, name: string, headers: Record<string, string> = {}, args: object = {}) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const metrics = async (url: string) => (await fetch(url.replace('/mcp', '/metrics'))).text();
const metric = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
/** The JSON-RPC message in an SSE answer. */
const sseMessage = (text: string) => JSON.parse(/^data: (.*)$/m.exec(text)![1]!);

describe('HTTP rate limit (per caller, token bucket)', () => {
  it('answers 429 with Retry-After past the burst; once that time has passed, the next call goes through', async () => {
    let clock = 1_000_000;
    const { http, audit } = await start({
      tokens: { alice: ALICE, bob: BOB },
      rateLimit: { rate: 1, burst: 2 },
      now: () => clock,
    });
    expect((await call(http.url, 'demo_big', bearer(ALICE))).status).toBe(200);
    expect((await call(http.url, 'demo_big', bearer(ALICE))).status).toBe(200);
    const limited = await call(http.url, 'demo_big', bearer(ALICE));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    const body = (await limited.json()) as any;
    expect(body.error.message).toBe(
      'Too many requests: the limit is 1 request per second per caller (bursts of 2); retry after 1 s',
    );
    // another caller has its own bucket
    expect((await call(http.url, 'demo_big', bearer(BOB))).status).toBe(200);
    expect(audit.records).toHaveLength(3); // the refused call made no record

    clock += 999;
    expect((await call(http.url, 'demo_big', bearer(ALICE))).status).toBe(429);
    clock += 1;
    expect((await call(http.url, 'demo_big', bearer(ALICE))).status).toBe(200);
    expect(audit.records).toHaveLength(4);

    const m = await metrics(http.url);
    expect(metric(m, 'infra_mcp_http_rate_limited_total{caller="alice"}')).toBe(2);
    expect(metric(m, 'infra_mcp_http_rate_limited_total{caller="bob"}')).toBeUndefined();
    expect(metric(m, 'infra_mcp_http_rejected_total{reason="rate_limited"}')).toBe(2);
  });

  it('limits unauthenticated callers by remote address, and the SDK client sees the 429', async () => {
    const { http } = await start({ rateLimit: { rate: 0.5, burst: 3 }, now: () => 0 });
    const client = new Client({ name: 'rate', version: '1' });
    // initialize + notifications/initialized + tools/list: the burst of 3
    await client.connect(new StreamableHTTPClientTransport(new URL(http.url)));
    await client.listTools();
    await expect(client.callTool({ name: 'demo_big', arguments: {} })).rejects.toThrow(
      /429|Too many requests/,
    );
    const refused = await call(http.url, 'demo_big');
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(
      metric(await metrics(http.url), 'infra_mcp_http_rate_limited_total{caller="(unauthenticated)"}'),
    ).toBe(2);
    await client.close();
  });

  it('refuses a rate limit that makes no sense, saying what to write', async () => {
    await expect(start({ rateLimit: { rate: 0 } })).rejects.toThrow(
      'http rate limit: rate must be a positive number of requests per second, got 0; example: { rate: 10, burst: 20 }',
    );
  });
});

describe('HTTP concurrency limits at the door', () => {
  it('refuses calls over limits.concurrent with 429 before any MCP work: no audit record for them', async () => {
    const { http, audit } = await start({ tokens: { alice: ALICE } }, { limits: { concurrent: 3 } });
    const answers = Array.from({ length: 8 }, () => call(http.url, 'demo_hold', bearer(ALICE)));
    const settled: Response[] = [];
    for (const a of answers) void a.then((r) => settled.push(r));
    await expect.poll(() => settled.length).toBe(5);
    expect(settled.map((r) => r.status)).toEqual([429, 429, 429, 429, 429]);
    expect(settled[0]!.headers.get('retry-after')).toBe('1');
    expect(((await settled[0]!.json()) as any).error.message).toBe(
      'Too many requests: the server is busy (3 of 3 calls running); retry in a second, or make fewer calls at once',
    );
    expect(metric(await metrics(http.url), 'infra_mcp_http_calls_running')).toBe(3);
    releaseHeld();
    const all = await Promise.all(answers);
    expect(all.filter((r) => r.status === 200)).toHaveLength(3);
    expect(audit.records.map((r) => `${r.tool} ${r.outcome}`)).toEqual(Array(3).fill('demo_hold ok'));
    const m = await metrics(http.url);
    expect(metric(m, 'infra_mcp_http_rejected_total{reason="busy"}')).toBe(5);
    expect(metric(m, 'infra_mcp_tool_calls_total{tool="demo_hold",outcome="denied"}')).toBeUndefined();
    // the slots are free again
    await expect.poll(async () => metric(await metrics(http.url), 'infra_mcp_http_calls_running')).toBe(0);
    expect((await call(http.url, 'demo_big', bearer(ALICE))).status).toBe(200);
  });

  it('applies limits.perCaller to each token, leaving other callers their share', async () => {
    const { http } = await start({ tokens: { alice: ALICE, bob: BOB } }, { limits: { perCaller: 1 } });
    const first = call(http.url, 'demo_hold', bearer(ALICE));
    await expect.poll(async () => metric(await metrics(http.url), 'infra_mcp_http_calls_running')).toBe(1);
    const second = await call(http.url, 'demo_hold', bearer(ALICE));
    expect(second.status).toBe(429);
    expect(((await second.json()) as any).error.message).toMatch(
      /1 of your calls are running \(the limit is 1 per caller\)/,
    );
    const bobs = call(http.url, 'demo_hold', bearer(BOB));
    await expect.poll(async () => metric(await metrics(http.url), 'infra_mcp_http_calls_running')).toBe(2);
    releaseHeld();
    expect((await first).status).toBe(200);
    expect((await bobs).status).toBe(200);
  });

  it('with limits: false, leaves the limit to the call pipeline (busy as an audited tool result, as before)', async () => {
    const { http, audit } = await start({ limits: false }, { limits: { concurrent: 1 } });
    const first = await fetch(http.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'demo_hold', arguments: { announce: true }, _meta: { progressToken: 1 } },
      }),
    });
    // the progress event: the held call is running
    await first.body!.getReader().read();
    const second = await call(http.url, 'demo_big');
    expect(second.status).toBe(200);
    const answer = sseMessage(await second.text());
    expect(answer.result.isError).toBe(true);
    expect(answer.result._meta['infra-mcp/error'].code).toBe('busy');
    expect(audit.records.map((r) => `${r.tool} ${r.outcome}`)).toEqual(['demo_big denied']);
  });
});

/** Raw bytes of an answer (fetch decodes gzip itself). */
function raw(url: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      const req = request(url, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('HTTP gzip', () => {
  const bigCall = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'demo_big', arguments: {} },
  });
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

  it('compresses a large answer for a client that accepts gzip; fetch decodes it to the same message', async () => {
    const { http } = await start({});
    const plain = await raw(http.url, headers, bigCall);
    expect(plain.headers['content-encoding']).toBeUndefined();
    const zipped = await raw(http.url, { ...headers, 'accept-encoding': 'gzip' }, bigCall);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/Accept-Encoding/);
    expect(zipped.body.length).toBeLessThan(plain.body.length / 3);
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());

    const viaFetch = await call(http.url, 'demo_big', { 'accept-encoding': 'gzip' });
    expect(viaFetch.headers.get('content-encoding')).toBe('gzip');
    const message = sseMessage(await viaFetch.text());
    expect(message.result.structuredContent).toEqual({ lines: 200 });
    expect(message.result.content[0].text).toContain('line 199: the quick brown fox');

    const m = await metrics(http.url);
    expect(metric(m, 'infra_mcp_http_gzip_responses_total')).toBe(2);
    expect(metric(m, 'infra_mcp_http_gzip_saved_bytes_total')).toBeGreaterThan(plain.body.length);
  });

  it('leaves a small answer, and clients that refuse gzip, uncompressed', async () => {
    const { http } = await start({ compressMinBytes: 4096 });
    const small = await raw(
      http.url,
      { ...headers, 'accept-encoding': 'gzip' },
      JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    );
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(sseMessage(small.body.toString())).toEqual({ jsonrpc: '2.0', id: 1, result: {} });
    const refused = await raw(http.url, { ...headers, 'accept-encoding': 'gzip;q=0, identity' }, bigCall);
    expect(refused.headers['content-encoding']).toBeUndefined();
  });

  it('flushes each SSE event: a progress notification reaches the client while the call still runs', async () => {
    const { http } = await start({ compressMinBytes: 512 });
    const client = new Client({ name: 'gzip-sse', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(http.url), {
        requestInit: { headers: { 'accept-encoding': 'gzip' } },
      }),
    );
    let progressed: (message: string) => void = () => {};
    const progress = new Promise<string>((r) => (progressed = r));
    const result = client.callTool({ name: 'demo_hold', arguments: { announce: true } }, undefined, {
      onprogress: (p) => progressed(p.message ?? ''),
    });
    // the tool is still held: only a flushed gzip stream delivers this
    expect(await progress).toMatch(/^started: progress detail/);
    releaseHeld();
    expect(((await result) as any).structuredContent).toEqual({ released: true });
    expect(metric(await metrics(http.url), 'infra_mcp_http_gzip_responses_total')).toBe(1);
    await client.close();
  });
});

describe('HTTP Origin allow-list (CORS) and security headers', () => {
  let http: RunningHttp;
  beforeAll(async () => {
    ({ http } = await start({ tokens: { alice: ALICE }, allowedOrigins: ['https://*.example.com'] }));
    running.length = 0; // kept for this block; closed in afterAll
  });
  afterAll(async () => {
    await http.close();
  });

  it('refuses a browser Origin not on the list with 403, saying how to allow it', async () => {
    const r = await call(http.url, 'demo_big', { ...bearer(ALICE), origin: 'https://evil.example.net' });
    expect(r.status).toBe(403);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await r.json()) as any).error.message).toBe(
      'Forbidden: Origin "https://evil.example.net" is not allowed (DNS rebinding protection); add it to http.allowedOrigins',
    );
    // a pattern host must end the origin: example.com.evil.net is not *.example.com
    expect(
      (await call(http.url, 'demo_big', { ...bearer(ALICE), origin: 'https://app.example.com.evil.net' }))
        .status,
    ).toBe(403);
  });

  it('answers an allowed Origin with CORS headers, and a request without Origin passes', async () => {
    const r = await call(http.url, 'demo_big', { ...bearer(ALICE), origin: 'https://app.example.com' });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(r.headers.get('access-control-expose-headers')).toMatch(/mcp-session-id, mcp-protocol-version/);
    expect(r.headers.get('vary')).toMatch(/Origin/);
    expect((await call(http.url, 'demo_big', bearer(ALICE))).status).toBe(200);
  });

  it('answers a preflight from an allowed Origin (no token needed) and refuses one from another', async () => {
    const preflight = (origin: string) =>
      fetch(http.url, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, mcp-protocol-version',
        },
      });
    const ok = await preflight('https://app.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const allowed = ok.headers.get('access-control-allow-headers')!.split(/,\s*/);
    for (const h of [
      'authorization',
      'content-type',
      'mcp-protocol-version',
      'mcp-session-id',
      'last-event-id',
    ])
      expect(allowed).toContain(h);
    expect((await preflight('https://evil.example.net')).status).toBe(403);
  });

  it('sends security headers on every answer: MCP, errors and probes', async () => {
    const answers = [
      await call(http.url, 'demo_big', bearer(ALICE)),
      await call(http.url, 'demo_big'), // 401
      await fetch(http.url.replace('/mcp', '/healthz')),
      await fetch(http.url.replace('/mcp', '/metrics')),
    ];
    for (const r of answers) {
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(r.headers.get('x-frame-options')).toBe('DENY');
    }
    expect(answers[0]!.headers.get('content-type')).toBe('text/event-stream');
  });

  it('refuses an allowed-origin entry that is not an origin pattern', async () => {
    await expect(start({ allowedOrigins: ['https://app.example.com/path'] })).rejects.toThrow(
      'http.allowedOrigins: "https://app.example.com/path" is not an origin pattern (scheme://host[:port], * for any host-name characters, no path); example: https://*.example.com',
    );
    await expect(start({ allowedOrigins: ['*'] })).rejects.toThrow(/is not an origin pattern/);
  });
});
