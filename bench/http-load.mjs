#!/usr/bin/env node
// HTTP load test (issue 7 "Measure"): N concurrent clients, each calling `prometheus_query` with `up`
// in a loop, against the built `infra-mcp --http` (stateless Streamable HTTP at /mcp, bearer token,
// default JSONL audit) versus a bare SDK stateless Streamable HTTP server (in this file: one tool doing
// the same POST /api/v1/query to the same Prometheus), both child processes, measured in one run.
// Each configuration runs in a fresh server process; ours and bare alternate, `--repeat` times.
//
// Reported per run: ok calls/s, p50/p99 latency of ok calls, busy answers (the server's concurrent-call
// limit; not errors: ours refuses them with HTTP 429 before any MCP work, so they leave no audit
// record), errors, and for ours the audit: records written (lines of the JSONL file under a temp
// XDG_STATE_HOME) against calls answered (any HTTP answer but a 429) and against the server's own
// infra_mcp_tool_calls_total, infra_mcp_audit_lost_records_total from /metrics, and
// `infra-mcp audit verify` on the file.
//
//   pnpm build && node bench/http-load.mjs [--clients 50,200,500] [--seconds 20] [--repeat 2]
//                                          [--tokens 1] [--busy-wait-ms 0] [--warmup 2]
//
// --tokens N spreads the clients over N bearer tokens (N callers): the app applies a per-caller limit
// (16) and a server-wide one (64), and neither is configurable in the app today.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '../apps/server/dist/cli.js');
const { values: opt } = parseArgs({
  options: {
    clients: { type: 'string', default: '50,200,500' },
    seconds: { type: 'string', default: '20' },
    repeat: { type: 'string', default: '2' },
    tokens: { type: 'string', default: '1' },
    'busy-wait-ms': { type: 'string', default: '0' },
    warmup: { type: 'string', default: '2' },
    'serve-bare': { type: 'string' },
  },
});

// ---------------------------------------------------------------------------------------------
// The bare server (this file run as a child with --serve-bare <prometheus url>)
// ---------------------------------------------------------------------------------------------
if (opt['serve-bare']) {
  const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const { StreamableHTTPServerTransport } = await import(
    '@modelcontextprotocol/sdk/server/streamableHttp.js'
  );
  const { z } = await import('zod');
  const prom = opt['serve-bare'];
  const tokens = new Set((process.env.BENCH_TOKENS ?? '').split(',').map((e) => e.split(':')[1]));
  const newServer = () => {
    const server = new McpServer({ name: 'bare', version: '1.0.0' });
    server.registerTool(
      'prometheus_query',
      { description: 'PromQL instant query', inputSchema: { query: z.string() } },
      async ({ query }) => {
        const res = await fetch(new URL('api/v1/query', `${prom}/`), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ query, timeout: '30s' }),
        });
        const body = await res.json();
        if (body.status !== 'success')
          return { isError: true, content: [{ type: 'text', text: body.error }] };
        return { content: [{ type: 'text', text: JSON.stringify(body.data) }] };
      },
    );
    return server;
  };
  const http = createServer(async (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (req.url !== '/mcp' || req.method !== 'POST' || !tokens.has(token)) {
      res.writeHead(req.url !== '/mcp' ? 404 : 401).end();
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const server = newServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close().catch(() => {});
      server.close().catch(() => {});
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  http.listen(0, '127.0.0.1', () => {
    process.stderr.write(`bare: listening on http://127.0.0.1:${http.address().port}/mcp\n`);
  });
  process.once('SIGTERM', () => {
    http.close(() => process.exit(0));
    http.closeAllConnections();
  });
} else {
  await main();
}

// ---------------------------------------------------------------------------------------------
// The load test
// ---------------------------------------------------------------------------------------------
async function main() {
  if (!existsSync(cli)) throw new Error(`${cli} missing: run pnpm build first`);
  const CLIENTS = opt.clients.split(',').map(Number);
  const SECONDS = Number(opt.seconds);
  const REPEAT = Number(opt.repeat);
  const TOKENS = Number(opt.tokens);
  const BUSY_WAIT = Number(opt['busy-wait-ms']);
  const WARMUP = Number(opt.warmup);
  const { startPrometheus } = await import('../packages/prometheus/test/prometheus-server.ts');

  process.stderr.write('starting prometheus...\n');
  const prom = await startPrometheus({ minScrapes: 2 });
  const tokenList = Array.from({ length: TOKENS }, (_, i) => [`c${i}`, `bench-token-${i}-0123456789abcdef`]);
  const tokenEnv = tokenList.map(([n, t]) => `${n}:${t}`).join(',');
  const results = [];
  try {
    for (let rep = 1; rep <= REPEAT; rep++) {
      for (const clients of CLIENTS) {
        // alternate which goes first, so a drift in machine load does not always favour one
        const order = rep % 2 ? ['bare', 'ours'] : ['ours', 'bare'];
        for (const kind of order) {
          const r = await runOne(kind, clients);
          results.push(r);
          process.stderr.write(`${describe(r)}\n`);
        }
      }
    }
  } finally {
    await prom.stop();
  }
  report(results);

  async function runOne(kind, clients) {
    const dir = mkdtempSync(join(tmpdir(), 'infra-mcp-bench-http-'));
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      XDG_STATE_HOME: join(dir, 'state'),
      XDG_CONFIG_HOME: join(dir, 'config'),
    };
    const server =
      kind === 'ours'
        ? await startChild(
            [cli, '--http', '127.0.0.1:0', '--log-level', 'warning'],
            { ...env, PROMETHEUS_URL: prom.url, INFRA_MCP_TOKENS: tokenEnv },
            /infra-mcp: listening on (http:\/\/\S+\/mcp)/,
            dir,
          )
        : await startChild(
            [fileURLToPath(import.meta.url), '--serve-bare', prom.url],
            { ...env, BENCH_TOKENS: tokenEnv },
            /bare: listening on (http:\/\/\S+\/mcp)/,
            dir,
          );
    const load = await drive(server.url, clients);
    const r = { kind, clients, ...load };
    if (kind === 'ours') {
      const metrics = await get(server.url.replace('/mcp', '/metrics'));
      r.lost = Number(/^infra_mcp_audit_lost_records_total (\d+)/m.exec(metrics)?.[1] ?? Number.NaN);
      let served = 0;
      for (const m of metrics.matchAll(/^infra_mcp_tool_calls_total\{[^}]*\} (\d+)/gm))
        served += Number(m[1]);
      r.metricCalls = served;
    }
    await server.stop();
    if (kind === 'ours') {
      const file = join(dir, 'state/infra-mcp/audit.jsonl');
      r.records = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
      const v = await run([cli, 'audit', 'verify', file], env, dir);
      r.verify = v.code === 0 ? 'ok' : `FAILED (${v.code}): ${(v.stdout + v.stderr).trim().slice(0, 300)}`;
      r.verifyText = (v.stdout + v.stderr).trim().split('\n')[0];
    }
    if (server.stderr().match(/error/i) && kind === 'ours') r.serverErrors = server.stderr().slice(0, 500);
    rmSync(dir, { recursive: true, force: true });
    return r;
  }

  /** `clients` loops calling prometheus_query(up) for WARMUP + SECONDS; the last SECONDS count. */
  async function drive(url, clients) {
    const { hostname, port, pathname } = new URL(url);
    const agent = new Agent({ keepAlive: true, maxSockets: clients, maxFreeSockets: clients });
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'prometheus_query', arguments: { query: 'up' } },
    });
    const t0 = performance.now();
    const measureFrom = t0 + WARMUP * 1000;
    const end = measureFrom + SECONDS * 1000;
    const lat = [];
    const counts = { ok: 0, busy: 0, errors: 0, total: 0, resets: 0, refused: 0 };
    const errorSamples = new Map();
    const one = (headers) =>
      new Promise((resolve) => {
        const req = request({ agent, hostname, port, path: pathname, method: 'POST', headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode, text }));
          res.on('error', (e) => resolve({ status: 0, text: String(e) }));
        });
        req.on('error', (e) => resolve({ status: 0, text: String(e) }));
        req.end(body);
      });
    const client = async (i) => {
      const [, token] = tokenList[i % tokenList.length];
      const headers = {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        authorization: `Bearer ${token}`,
      };
      while (performance.now() < end) {
        const s = performance.now();
        const { status, text } = await one(headers);
        const e = performance.now();
        const counted = s >= measureFrom && e <= end;
        // no HTTP answer at all (a keep-alive socket reset as it was reused): never reached the server
        // a 429 was refused at the door: no MCP work, no audit record
        if (status === 0) counts.resets++;
        else if (status === 429) counts.refused++;
        else counts.total++;
        let kindOf = 'ok';
        if (status === 429) kindOf = 'busy';
        else if (status !== 200 || !text.includes('"result"')) kindOf = 'error';
        else if (text.includes('"isError":true')) kindOf = text.includes('"code":"busy"') ? 'busy' : 'error';
        if (kindOf === 'error') {
          const key = `${status} ${text.slice(0, 160)}`;
          errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
        }
        if (counted) {
          if (kindOf === 'ok') {
            counts.ok++;
            lat.push(e - s);
          } else if (kindOf === 'busy') counts.busy++;
          else counts.errors++;
        }
        if (kindOf === 'busy' && BUSY_WAIT > 0) await new Promise((r) => setTimeout(r, BUSY_WAIT));
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
    agent.destroy();
    lat.sort((a, b) => a - b);
    const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : Number.NaN);
    return {
      okPerSec: counts.ok / SECONDS,
      busyPerSec: counts.busy / SECONDS,
      p50: q(0.5),
      p99: q(0.99),
      ok: counts.ok,
      busy: counts.busy,
      errors: counts.errors,
      answered: counts.total,
      refused: counts.refused,
      resets: counts.resets,
      errorSamples: [...errorSamples].slice(0, 3),
    };
  }

  function describe(r) {
    const audit =
      r.kind === 'ours'
        ? `; audit: ${r.records} records / ${r.answered} calls answered (metrics ${r.metricCalls}; ${r.refused} refused with 429), connection resets ${r.resets}, lost ${r.lost}, verify ${r.verify}`
        : '';
    return `${r.kind.padEnd(4)} ${String(r.clients).padStart(4)} clients: ${r.okPerSec.toFixed(0)} ok/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, busy ${r.busy}, errors ${r.errors}${audit}${r.errorSamples.length ? `\n  error samples: ${JSON.stringify(r.errorSamples)}` : ''}`;
  }

  function report(rs) {
    const lines = [
      `HTTP load: prometheus_query(up), ${SECONDS} s measured (+${WARMUP} s warm-up) per run, ${REPEAT} run(s) each, ${TOKENS} token(s), busy wait ${BUSY_WAIT} ms (node ${process.version})`,
      '',
      '| clients | run | bare ok/s | ours ok/s | ours/bare | bare p50 / p99 ms | ours p50 / p99 ms | ours busy/s | errors bare / ours (of them resets) | audit records = calls answered | lost | verify |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
    ];
    const ratios = new Map();
    for (const clients of CLIENTS) {
      const bare = rs.filter((r) => r.kind === 'bare' && r.clients === clients);
      const ours = rs.filter((r) => r.kind === 'ours' && r.clients === clients);
      for (let i = 0; i < Math.min(bare.length, ours.length); i++) {
        const b = bare[i];
        const o = ours[i];
        const ratio = o.okPerSec / b.okPerSec;
        ratios.set(clients, [...(ratios.get(clients) ?? []), ratio]);
        lines.push(
          `| ${clients} | ${i + 1} | ${b.okPerSec.toFixed(0)} | ${o.okPerSec.toFixed(0)} | ${ratio.toFixed(2)}x | ${b.p50.toFixed(1)} / ${b.p99.toFixed(1)} | ${o.p50.toFixed(1)} / ${o.p99.toFixed(1)} | ${o.busyPerSec.toFixed(0)} | ${b.errors} (${b.resets}) / ${o.errors} (${o.resets}) | ${o.records} = ${o.answered}: ${o.records === o.answered && o.records === o.metricCalls ? 'yes' : 'NO'} | ${o.lost} | ${o.verify} |`,
        );
      }
    }
    lines.push('');
    for (const [clients, rr] of ratios)
      lines.push(
        `${clients} clients: ours/bare ok throughput ${Math.min(...rr).toFixed(2)}–${Math.max(...rr).toFixed(2)}x over ${rr.length} run(s)`,
      );
    console.log(lines.join('\n'));
    const bad = rs.filter(
      (r) =>
        r.kind === 'ours' &&
        (r.records !== r.answered || r.records !== r.metricCalls || r.lost !== 0 || r.verify !== 'ok'),
    );
    if (bad.length) {
      console.log(`audit NOT consistent in ${bad.length} run(s)`);
      process.exitCode = 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------------
async function startChild(args, env, listening, cwd) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise((r) => child.once('exit', r));
  child.stderr.setEncoding('utf8');
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 15 s:\n${err}`)), 15_000);
    child.stderr.on('data', (c) => {
      err += c;
      if (err.length > 100_000) err = err.slice(-50_000);
      const m = listening.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before listening:\n${err}`));
    });
  });
  return {
    url,
    stderr: () => err,
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

function get(url) {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
}

function run(args, env, cwd) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (stderr += c));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
