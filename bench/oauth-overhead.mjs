#!/usr/bin/env node
// Cost of OAuth per HTTP request: one serveHttp server with a static token and OAuth configured; a
// tools/call (kv_get) sent with the static token (baseline) versus a JWT access token from a real
// oidc-provider on loopback (signature, issuer, audience, scope checks), interleaved, sequential.
//
//   pnpm build && node bench/oauth-overhead.mjs [--calls 2000]
import { kv } from '../apps/server/test/fixtures/kv-plugin.mjs';
import { serveHttp } from '../packages/core/dist/http.js';
import { createServer, MemoryAuditSink } from '../packages/core/dist/index.js';
import { signingKey, startOidc } from '../packages/testing/dist/oidc.js';

const callsArg = process.argv.indexOf('--calls');
const CALLS = callsArg > 0 ? Number(process.argv[callsArg + 1]) : 2000;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const STATIC = 'bench-static-token-0123456789abcdef';
const RESOURCE = 'http://localhost/mcp';

const idp = await startOidc({ keys: [await signingKey('k1')] });
const app = createServer({
  plugins: [kv({ url: 'http://kv.local' })],
  audit: [new MemoryAuditSink()],
  logger: quiet,
  env: {},
});
const http = await serveHttp(app, {
  port: 0,
  tokens: { bench: STATIC },
  oauth: { issuer: idp.issuer, resource: RESOURCE },
});
const jwt = await idp.token('agent-a', RESOURCE, 'infra-mcp:read');
const body = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'kv_get', arguments: { key: 'a' } },
});
const send = async (token) => {
  const res = await fetch(http.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body,
  });
  const text = await res.text();
  if (res.status !== 200 || text.includes('"isError":true'))
    throw new Error(`${res.status}: ${text.slice(0, 300)}`);
};
const times = { static: [], oauth: [] };
for (let i = 0; i < 200; i++) for (const t of [STATIC, jwt]) await send(t);
for (let i = 0; i < CALLS; i++) {
  for (const [name, token] of [
    ['static', STATIC],
    ['oauth', jwt],
  ]) {
    const t0 = performance.now();
    await send(token);
    times[name].push(performance.now() - t0);
  }
}
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)];
const row = (name) =>
  `${(pct(times[name], 0.5) * 1000).toFixed(0)} µs p50, ${(pct(times[name], 0.99) * 1000).toFixed(0)} µs p99`;
const s = pct(times.static, 0.5);
const o = pct(times.oauth, 0.5);
process.stdout.write(
  [
    `tools/call over HTTP, ${CALLS} interleaved sequential requests per kind (node ${process.version})`,
    `  static bearer token (baseline)   ${row('static')}`,
    `  OAuth JWT (ES256, jose)          ${row('oauth')}  (${(o / s).toFixed(2)}x; +${((o - s) * 1000).toFixed(0)} µs per request)`,
    '',
  ].join('\n'),
);
await http.close();
await app.close();
await idp.close();
