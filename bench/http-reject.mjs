#!/usr/bin/env node
// What a refused request costs (issue 12 "Resilience"): over the concurrency limits, a tools/call used
// to be answered `busy` by the call pipeline, after a per-request SDK server and with an audit record;
// now serveHttp refuses it at the door with 429. In one process, two servers over real HTTP (keep-alive
// node:http client, JSONL audit in a temp dir, limits.concurrent 4):
//   before: serveHttp(app, { limits: false })  -- the pipeline answers busy (as at main before this change)
//   after:  serveHttp(app)                      -- the HTTP door answers 429
// Per server and round: N sequential accepted calls (a trivial read), then, with 4 calls held open to
// fill the limit, N sequential refused calls. Reported: median µs per request and the refused/accepted
// ratio per server (the baseline is the accepted call of the same server, same round), and audit records
// written for the refused calls. A rate-limited request (429 from the token bucket) is measured the same way.
//
//   pnpm build && node bench/http-reject.mjs [--calls 2000] [--rounds 3]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { serveHttp } from '../packages/core/dist/http.js';
import { createServer, definePlugin, defineTool, JsonlAuditSink } from '../packages/core/dist/index.js';

const { values: opt } = parseArgs({
  options: { calls: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } },
});
const CALLS = Number(opt.calls);
const ROUNDS = Number(opt.rounds);
const LIMIT = 4;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let release = () => {};
let held = Promise.resolve();
const bench = definePlugin({
  id: 'bench',
  title: 'Bench',
  description: 'refusal cost',
  version: '0.0.0',
  config: z.object({}),
  setup: async () => ({}),
  tools: [
    defineTool({
      name: 'get',
      description: 'A trivial read',
      input: z.object({ key: z.string().describe('key') }),
      output: z.object({ key: z.string(), value: z.string() }),
      effect: 'read',
      run: async ({ key }) => ({ data: { key, value: '1' } }),
    }),
    defineTool({
      name: 'hold',
      description: 'Wait until released',
      input: z.object({}),
      output: z.object({}),
      effect: 'read',
      run: async () => {
        await held;
        return { data: {} };
      },
    }),
  ],
});

const dir = mkdtempSync(join(tmpdir(), 'infra-mcp-bench-reject-'));
async function start(name, httpOptions) {
  const file = join(dir, `${name}.jsonl`);
  const app = createServer({
    plugins: [bench()],
    audit: [new JsonlAuditSink(file)],
    logger: quiet,
    env: {},
    limits: { concurrent: LIMIT },
  });
  const http = await serveHttp(app, { port: 0, rejectLogIntervalMs: 3_600_000, ...httpOptions });
  const records = () => readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  return { name, app, http, records, agent: new Agent({ keepAlive: true, maxSockets: 1 }) };
}

const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const body = (name, args = {}) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
const GET = body('bench_get', { key: 'a' });
function post(server, payload, agent = server.agent) {
  return new Promise((resolve, reject) => {
    const req = request(server.http.url, { method: 'POST', headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
/** Median µs per request of `n` sequential requests; checks each answer with `expectKind`. */
async function measure(server, n, expectKind) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await post(server, GET);
    times.push(performance.now() - t0);
    const kind =
      r.status === 429
        ? '429'
        : r.text.includes('"code":"busy"')
          ? 'busy'
          : r.status === 200
            ? 'ok'
            : r.status;
    if (kind !== expectKind)
      throw new Error(`${server.name}: expected ${expectKind}, got ${kind}: ${r.text}`);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(n / 2)] * 1000;
}
/** Fill the concurrency limit with held calls; returns a function that releases them and waits. */
async function saturate(server) {
  held = new Promise((r) => (release = r));
  const agent = new Agent({ keepAlive: true, maxSockets: LIMIT });
  const holds = Array.from({ length: LIMIT }, () => post(server, body('bench_hold'), agent));
  // the held calls are running once a further call is refused
  for (;;) {
    const r = await post(server, GET);
    if (r.status === 429 || r.text.includes('"code":"busy"')) break;
    await new Promise((res) => setTimeout(res, 5));
  }
  return async () => {
    release();
    await Promise.all(holds);
    agent.destroy();
  };
}

const servers = [await start('before', { limits: false }), await start('after', {})];
const rated = await start('rate-limited', { rateLimit: { rate: 1, burst: 1 }, now: () => 0 });
const results = new Map(servers.map((s) => [s.name, { accepted: [], refused: [], records: [] }]));
const rateResults = { accepted: [], refused: [] };
for (const s of [...servers, rated]) await measure(s, 200, 'ok').catch(() => {}); // warm-up (rated: its 1 token)
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 ? [...servers].reverse() : servers;
  for (const s of order) {
    const r = results.get(s.name);
    r.accepted.push(await measure(s, CALLS, 'ok'));
    const stop = await saturate(s);
    const before = s.records();
    r.refused.push(await measure(s, CALLS, s.name === 'before' ? 'busy' : '429'));
    r.records.push(s.records() - before);
    await stop();
  }
  rateResults.refused.push(await measure(rated, CALLS, '429'));
  rateResults.accepted.push(results.get('after').accepted.at(-1));
}

const range = (xs, f = (x) => x.toFixed(0)) => {
  const [lo, hi] = [f(Math.min(...xs)), f(Math.max(...xs))];
  return lo === hi ? lo : `${lo}–${hi}`;
};
const lines = [
  `Refused vs accepted request over HTTP, median µs of ${CALLS} sequential requests per round, ${ROUNDS} round(s) (node ${process.version}); limits.concurrent ${LIMIT}, JSONL audit`,
  '',
  '| server | accepted call µs | refused µs | refused / accepted | audit records per refused call |',
  '| --- | ---: | ---: | ---: | ---: |',
];
for (const [name, r] of results) {
  const ratios = r.refused.map((x, i) => x / r.accepted[i]);
  lines.push(
    `| ${name === 'before' ? 'before: busy from the pipeline (limits: false)' : 'after: 429 at the HTTP door'} | ${range(r.accepted)} | ${range(r.refused)} | ${range(ratios, (x) => `${x.toFixed(2)}x`)} | ${range(
      r.records.map((n) => n / CALLS),
      (x) => x.toFixed(2),
    )} |`,
  );
}
const rr = rateResults.refused.map((x, i) => x / rateResults.accepted[i]);
lines.push(
  `| rate limit: 429 from the token bucket | (after's) ${range(rateResults.accepted)} | ${range(rateResults.refused)} | ${range(rr, (x) => `${x.toFixed(2)}x`)} | 0.00 |`,
);
const b = results.get('before');
const a = results.get('after');
const gain = b.refused.map((x, i) => x / a.refused[i]);
lines.push('', `a refused request costs ${range(gain, (x) => x.toFixed(1))}x less than before`);
console.log(lines.join('\n'));

for (const s of [...servers, rated]) {
  s.agent.destroy();
  await s.http.close();
  await s.app.close();
}
rmSync(dir, { recursive: true, force: true });
