#!/usr/bin/env node
// Replicas (issue 12 "Measure"): throughput and p50/p99 of read calls (`kv_get`, the kv test plugin)
// from N concurrent clients against, in one run:
//   bare       a bare MCP SDK stateless Streamable HTTP server (in this file) with the same tool
//   bare x3    3 of them behind haproxy (what the machine gives any Node server when replicated)
//   ours       1 `infra-mcp --http` replica (built app: bearer tokens, JSONL audit, Redis approvals)
//   ours+lb    the same replica behind haproxy (the cost of the hop)
//   ours x3    3 replicas behind haproxy, sharing Redis, an audit file each (as the chart runs them)
// Each configuration runs on fresh processes, in turn (the order rotates between repeats); clients run
// in this process (keep-alive, one socket each). CPU per process group is sampled from /proc.
//
//   pnpm build && node bench/replicas.mjs [--clients 50,200] [--seconds 15] [--warmup 2] [--repeat 1]
//                                         [--configs 'bare,bare x3,ours,ours+lb,ours x3']
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  freePort,
  killAll,
  quantile,
  requireParts,
  startHaproxy,
  startRedis,
  startReplicas,
  stop,
} from '../deploy/load/cluster.mjs';
import { ResourceSampler } from '../deploy/load/sampler.mjs';

const { values: opt } = parseArgs({
  options: {
    clients: { type: 'string', default: '50,200' },
    seconds: { type: 'string', default: '15' },
    warmup: { type: 'string', default: '2' },
    repeat: { type: 'string', default: '1' },
    configs: { type: 'string', default: 'bare,bare x3,ours,ours+lb,ours x3' },
    'serve-bare': { type: 'string' },
  },
});

if (opt['serve-bare']) await serveBare(Number(opt['serve-bare']));
else await main();

/** The baseline: the SDK's own stateless Streamable HTTP server, one kv_get tool, a bearer check. */
async function serveBare(port) {
  const { McpServer } = await import('@modelcontextprotocol/sdk/server/mcp.js');
  const { StreamableHTTPServerTransport } = await import(
    '@modelcontextprotocol/sdk/server/streamableHttp.js'
  );
  const { z } = await import('zod');
  const values = new Map([['a', '1']]);
  const tokens = new Set((process.env.BENCH_TOKENS ?? '').split(',').map((e) => e.split(':')[1]));
  const http = createServer(async (req, res) => {
    if (req.url === '/healthz') return res.writeHead(200).end('ok\n');
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (req.url !== '/mcp' || req.method !== 'POST' || !tokens.has(token))
      return res.writeHead(req.url !== '/mcp' ? 404 : 401).end();
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const server = new McpServer({ name: 'bare', version: '1.0.0' });
    server.registerTool(
      'kv_get',
      { description: 'Read a key', inputSchema: { key: z.string() } },
      async ({ key }) => ({
        content: [{ type: 'text', text: JSON.stringify({ key, value: values.get(key) ?? null }) }],
      }),
    );
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
  http.listen(port, '127.0.0.1', () =>
    process.stderr.write(`bare: listening on http://127.0.0.1:${port}/mcp\n`),
  );
  process.once('SIGTERM', () => {
    http.close(() => process.exit(0));
    http.closeAllConnections();
  });
}

async function main() {
  const log = (m) => process.stderr.write(`${m}\n`);
  requireParts(['redis-server', 'haproxy'], log);
  const CLIENTS = opt.clients.split(',').map(Number);
  const SECONDS = Number(opt.seconds);
  const WARMUP = Number(opt.warmup);
  const REPEAT = Number(opt.repeat);
  const CONFIGS = opt.configs.split(',');
  const results = [];
  for (let rep = 0; rep < REPEAT; rep++)
    for (const clients of CLIENTS) {
      // rotate the order so a drift in machine load does not always fall on the same configuration
      const order = CONFIGS.map((_, i) => CONFIGS[(i + rep) % CONFIGS.length]);
      for (const config of order) {
        const r = await runOne(config, clients);
        results.push(r);
        log(
          `${config.padEnd(8)} ${String(clients).padStart(4)} clients: ${r.okPerSec.toFixed(0)} ok/s (${r.perCpuSec.toFixed(0)} per server CPU s), p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}; CPU ${r.cpu}; load average ${r.load}`,
        );
      }
    }
  report(results);

  async function runOne(config, clients) {
    const dir = mkdtempSync(join(tmpdir(), 'infra-mcp-bench-replicas-'));
    const tokens = Array.from({ length: Math.max(1, Math.ceil(clients / 25)) }, (_, i) => [
      `c${i}`,
      randomBytes(16).toString('hex'),
    ]);
    const tokenEnv = tokens.map(([n, t]) => `${n}:${t}`).join(',');
    const n = config.endsWith('x3') ? 3 : 1;
    const pids = {};
    let servers = []; // child processes, stopped at the end
    let ports;
    if (config.startsWith('bare')) {
      ports = [];
      for (let i = 0; i < n; i++) {
        const port = await freePort();
        const child = spawn(
          process.execPath,
          [fileURLToPath(import.meta.url), '--serve-bare', String(port)],
          {
            env: { PATH: process.env.PATH, BENCH_TOKENS: tokenEnv },
            stdio: ['ignore', 'ignore', 'pipe'],
          },
        );
        await new Promise((resolve, reject) => {
          child.stderr.setEncoding('utf8').on('data', (d) => d.includes('listening') && resolve());
          child.once('exit', (code) => reject(new Error(`bare server exited (${code})`)));
        });
        servers.push(child);
        pids[`server ${i}`] = child.pid;
        ports.push(port);
      }
    } else {
      const redis = await startRedis(dir);
      pids.redis = redis.child.pid;
      const replicas = await startReplicas({
        n,
        dir,
        env: {
          INFRA_MCP_TOKENS: tokenEnv,
          INFRA_MCP_APPROVAL_SECRET: randomBytes(24).toString('hex'),
          INFRA_MCP_APPROVAL_REDIS_URL: redis.url,
          INFRA_MCP_AUDIT_KEY: randomBytes(32).toString('hex'),
        },
        auditFile: (i) => join(dir, `audit-r${i}.jsonl`),
        config: { limits: { concurrent: Math.max(64, clients), perCaller: Math.max(16, clients) } },
      });
      replicas.forEach((r, i) => {
        pids[`server ${i}`] = r.child.pid;
      });
      servers = [...replicas.map((r) => r.child), redis.child];
      ports = replicas.map((r) => r.port);
    }
    let url = `http://127.0.0.1:${ports[0]}/mcp`;
    if (n === 3 || config === 'ours+lb') {
      const lb = await startHaproxy(dir, ports);
      pids.haproxy = lb.child.pid;
      servers.push(lb.child);
      url = lb.url;
    }
    pids.clients = process.pid;
    const sampler = new ResourceSampler(pids);
    const r = await drive(url, clients, tokens, sampler);
    for (const child of servers) await stop(child);
    killAll();
    rmSync(dir, { recursive: true, force: true });
    return { config, clients, ...r, load: loadavg()[0].toFixed(1) };
  }

  /** `clients` loops calling kv_get for WARMUP + SECONDS; calls within the last SECONDS count. */
  async function drive(url, clients, tokens, sampler) {
    const { hostname, port, pathname } = new URL(url);
    const agent = new Agent({ keepAlive: true, maxSockets: clients, maxFreeSockets: clients });
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'kv_get', arguments: { key: 'a' } },
    });
    const t0 = performance.now();
    const from = t0 + WARMUP * 1000;
    const end = from + SECONDS * 1000;
    const lat = [];
    let errors = 0;
    const one = (headers) =>
      new Promise((resolve) => {
        const req = request({ agent, hostname, port, path: pathname, method: 'POST', headers }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () =>
            resolve(res.statusCode === 200 && text.includes('"result"') && !text.includes('"isError":true')),
          );
          res.on('error', () => resolve(false));
        });
        req.on('error', () => resolve(false));
        req.end(body);
      });
    setTimeout(() => sampler.start(), WARMUP * 1000);
    const client = async (i) => {
      const headers = {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-06-18',
        authorization: `Bearer ${tokens[i % tokens.length][1]}`,
      };
      while (performance.now() < end) {
        const s = performance.now();
        const ok = await one(headers);
        const e = performance.now();
        if (s < from || e > end) continue;
        if (ok) lat.push(e - s);
        else errors++;
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
    const usage = sampler.totals();
    agent.destroy();
    lat.sort((a, b) => a - b);
    const cpu = Object.entries(usage)
      .map(([k, v]) => `${k} ${v.toFixed(0)}%`)
      .join(', ');
    // what the servers (with haproxy and redis) burnt, in cores: this machine's other tenants take a
    // share that varies, and 3 processes get a larger share than 1, so calls per CPU second is the
    // measure of efficiency that does not depend on how much of the machine we were given
    const serverCores = Object.entries(usage)
      .filter(([k]) => k !== 'clients')
      .reduce((a, [, v]) => a + v / 100, 0);
    return {
      okPerSec: lat.length / SECONDS,
      perCpuSec: lat.length / SECONDS / serverCores,
      serverCores,
      p50: quantile(lat, 0.5),
      p99: quantile(lat, 0.99),
      errors,
      cpu,
      usage,
    };
  }

  function report(rs) {
    const cores = cpus().length;
    const lines = [
      `replicas bench: kv_get, ${SECONDS} s measured (+${WARMUP} s warm-up) per configuration, ${REPEAT} repeat(s), node ${process.version}, ${cores} cores`,
      '',
      '| clients | configuration | ok/s | vs bare | vs ours (1) | p50 ms | p99 ms | errors | server cores used | calls per server CPU s | vs bare | CPU, % of one core |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ];
    for (const clients of CLIENTS) {
      const of = (c) => rs.filter((r) => r.config === c && r.clients === clients);
      const mean = (c, f) => {
        const l = of(c);
        return l.length ? l.reduce((a, r) => a + f(r), 0) / l.length : Number.NaN;
      };
      for (const config of CONFIGS) {
        const ok = mean(config, (r) => r.okPerSec);
        const range = (f, d = 0) => {
          const v = of(config).map(f);
          const lo = Math.min(...v).toFixed(d);
          const hi = Math.max(...v).toFixed(d);
          return lo === hi ? lo : `${lo}–${hi}`;
        };
        lines.push(
          `| ${clients} | ${config} | ${range((r) => r.okPerSec)} | ${(ok / mean('bare', (r) => r.okPerSec)).toFixed(2)}x | ${config.startsWith('ours') ? `${(ok / mean('ours', (r) => r.okPerSec)).toFixed(2)}x` : ''} | ${range((r) => r.p50, 1)} | ${range((r) => r.p99, 1)} | ${of(config).reduce((a, r) => a + r.errors, 0)} | ${range((r) => r.serverCores, 2)} | ${range((r) => r.perCpuSec)} | ${(mean(config, (r) => r.perCpuSec) / mean('bare', (r) => r.perCpuSec)).toFixed(2)}x | ${of(config).at(-1).cpu} |`,
        );
      }
    }
    console.log(lines.join('\n'));
    if (rs.some((r) => r.errors > 0)) process.exitCode = 1;
  }
}
