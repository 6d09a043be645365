#!/usr/bin/env node
// Cold start of `infra-mcp` over stdio versus a minimal bundled SDK server with one tool, in one run.
// Measures: time to the initialize answer, time to the tools/list answer, peak RSS (VmHWM), tools/list bytes.
// Runs are interleaved (baseline, infra-mcp, baseline, ...) so machine noise hits both alike; medians reported.
//
//   pnpm build && node bench/cold-start.mjs [--runs 15]
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '../apps/server/dist/cli.js');
if (!existsSync(cli)) throw new Error(`${cli} missing: run pnpm build first`);
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;

const work = mkdtempSync(join(tmpdir(), 'infra-mcp-bench-'));
const baseline = join(work, 'minimal.js');
await build({
  entryPoints: [join(here, 'baseline/minimal-server.mjs')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  outfile: baseline,
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'error',
});

// Every plugin the app ships, enabled and configured (backends are contacted lazily, at first use; none here).
const kubeconfig = join(work, 'kubeconfig.json');
writeFileSync(
  kubeconfig,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'dev',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:9' } }],
    users: [{ name: 'u', user: { token: 'bench-token' } }],
    contexts: ['dev', 'prod'].map((name) => ({ name, context: { cluster: 'c', user: 'u' } })),
  }),
);
const pluginEnv = {
  PROMETHEUS_URL: 'http://127.0.0.1:9',
  // k8s: enabled, two kubeconfig contexts as instances; @kubernetes/client-node must not load at start
  KUBECONFIG: kubeconfig,
  K8S_IN_CLUSTER: 'false',
};

const lines = (...msgs) => `${msgs.map((m) => JSON.stringify(m)).join('\n')}\n`;
const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } },
};
const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
const list = { jsonrpc: '2.0', id: 2, method: 'tools/list' };

/** CPU time (user + system) the process has used, in ms: less sensitive to other load than wall time. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
  } catch {
    return Number.NaN;
  }
}

function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

function once(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {
      env: { PATH: process.env.PATH, HOME: work, INFRA_MCP_AUDIT_FILE: join(work, 'audit.jsonl'), ...env },
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    let buf = '';
    const out = {};
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        nl = buf.indexOf('\n');
        const msg = JSON.parse(line);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (msg.id === 1) {
          out.initializeMs = ms;
          child.stdin.write(lines(initialized, list));
        } else if (msg.id === 2) {
          out.toolsListMs = ms;
          out.toolsListBytes = Buffer.byteLength(line);
          out.tools = msg.result.tools.length;
          out.rss = peakRss(child.pid);
          out.cpuMs = cpuMs(child.pid);
          child.stdin.end();
        }
      }
    });
    child.on('error', reject);
    child.on('close', () =>
      out.toolsListMs ? resolve(out) : reject(new Error(`${args.join(' ')} exited early`)),
    );
    child.stdin.write(lines(initialize));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const noCache = { ...pluginEnv, NODE_DISABLE_COMPILE_CACHE: '1' };
const results = { baseline: [], infra: [], infraNoCache: [] };
await once([baseline], {}); // warm the file cache (and infra-mcp's compile cache), not measured
await once([cli], pluginEnv);
for (let i = 0; i < RUNS; i++) {
  results.baseline.push(await once([baseline], {}));
  results.infra.push(await once([cli], pluginEnv));
  results.infraNoCache.push(await once([cli], noCache));
}

const summary = (rs) => ({
  initializeMs: median(rs.map((r) => r.initializeMs)),
  toolsListMs: median(rs.map((r) => r.toolsListMs)),
  peakRssMiB: median(rs.map((r) => r.rss)) / 1024 / 1024,
  cpuMs: median(rs.map((r) => r.cpuMs)),
  toolsListBytes: rs[0].toolsListBytes,
  tools: rs[0].tools,
});
const b = summary(results.baseline);
const m = summary(results.infra);
const n = summary(results.infraNoCache);
const fmt = (n) => n.toFixed(1);
const row = (name, key, unit = '') =>
  `${name.padEnd(22)} ${(fmt(b[key]) + unit).padStart(12)} ${(fmt(m[key]) + unit).padStart(12)} ${(m[key] / b[key]).toFixed(2).padStart(8)}x ${(fmt(n[key]) + unit).padStart(16)} ${(n[key] / b[key]).toFixed(2).padStart(8)}x`;
process.stdout.write(
  [
    `cold start over stdio, median of ${RUNS} interleaved runs (node ${process.version}); plugins enabled: ${Object.keys(pluginEnv).join(', ')}`,
    `${''.padEnd(22)} ${'minimal SDK'.padStart(12)} ${'infra-mcp'.padStart(12)} ${'ratio'.padStart(9)} ${'no compile cache'.padStart(16)} ${'ratio'.padStart(9)}`,
    row('initialize answer', 'initializeMs', ' ms'),
    row('tools/list answer', 'toolsListMs', ' ms'),
    row('CPU time to tools/list', 'cpuMs', ' ms'),
    row('peak RSS', 'peakRssMiB', ' MiB'),
    `${'tools/list bytes'.padEnd(22)} ${String(b.toolsListBytes).padStart(12)} ${String(m.toolsListBytes).padStart(12)}   (${m.tools} tools vs ${b.tools})`,
    "infra-mcp enables Node's compile cache by default (the first start fills it); the last columns turn it off.",
    'goal: cold start and RSS within 1.3x of the minimal server',
    '',
  ].join('\n'),
);
