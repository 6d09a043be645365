// Real parts for the replica load run (deploy/load/replicas.mjs) and the replica bench
// (bench/replicas.mjs): redis-server, N `infra-mcp --http` replicas, haproxy in front, all on loopback.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const cli = join(root, 'apps/server/dist/cli.js');
/** A key/value plugin with a read (`kv_get`) and a two-phase write (`kv_set`). */
export const KV_PLUGIN = join(root, 'apps/server/test/fixtures/kv-plugin.mjs');

/** Exits with a clear message when a binary or the build is missing. */
export function requireParts(bins, log) {
  for (const bin of bins) {
    try {
      execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    } catch {
      log(`${bin} is not installed: apt-get install ${bins.join(' ')} (.ci/run does)`);
      process.exit(1);
    }
  }
  try {
    readFileSync(cli);
  } catch {
    log(`${cli} is missing: run pnpm build first`);
    process.exit(1);
  }
}

export const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** Children started here; `killAll()` ends the ones still running (also at exit). */
const children = [];
export function killAll() {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    killAll();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  });

/** Spawn and wait until its output matches `ready`. */
export function start(cmd, args, opts, ready) {
  const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start:\n${out}`)), 15_000);
    const on = (d) => {
      out = (out + d).slice(-100_000);
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, output: () => out });
      }
    };
    child.stdout.setEncoding('utf8').on('data', on);
    child.stderr.setEncoding('utf8').on('data', on);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${code ?? signal}):\n${out}`));
    });
  });
}

/** A real redis-server on a free port, no persistence. */
export async function startRedis(dir, port) {
  const p = port ?? (await freePort());
  const r = await start(
    'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {},
    /Ready to accept connections/,
  );
  return { port: p, url: `redis://127.0.0.1:${p}`, child: r.child };
}

/**
 * `n` replicas of the built app with the kv plugin, sharing `env` (tokens, approval secret, Redis,
 * audit key). `auditFile(i)` names each replica's audit file (one shared file holds a chain each).
 */
export async function startReplicas({ n, dir, env, auditFile, config }) {
  mkdirSync(join(dir, 'home'), { recursive: true });
  const configFile = join(dir, 'infra-mcp.yaml');
  writeFileSync(configFile, JSON.stringify(config ?? {}));
  const replicas = [];
  for (let i = 0; i < n; i++) {
    const port = await freePort();
    const r = await start(
      process.execPath,
      [
        cli,
        '--http',
        `127.0.0.1:${port}`,
        '--config',
        configFile,
        '--plugin-module',
        KV_PLUGIN,
        '--log-level',
        'error',
      ],
      {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          HOME: join(dir, 'home'),
          XDG_CONFIG_HOME: join(dir, 'config'),
          XDG_STATE_HOME: join(dir, 'state'),
          KV_URL: 'http://kv.invalid',
          ...env,
          INFRA_MCP_AUDIT_FILE: auditFile(i),
        },
      },
      /listening on (http:\/\/\S+\/mcp)/,
    );
    replicas.push({ port, url: r.match[1], child: r.child });
  }
  return replicas;
}

/**
 * haproxy in front of `ports`: round robin, /healthz checked every 500 ms, at most `maxconn`
 * requests at once per replica (more wait in haproxy's queue: a replica handed every request at
 * once answers its health check too late and is taken out). A request whose connection to a
 * replica fails is sent to another one (`retries` + `redispatch`: it never reached the first), and
 * that first failed connection marks the replica down at once (`observe layer4 error-limit 1`):
 * otherwise a dead replica, with free `maxconn` slots while the live ones are full, draws every
 * retry until its health check fails. A request a replica received is never sent twice.
 */
export async function startHaproxy(dir, ports, { maxconn = 64 } = {}) {
  const lbPort = await freePort();
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    `global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout check 5s
  timeout queue 30s
  retries 2
  option redispatch 1
frontend mcp
  bind 127.0.0.1:${lbPort}
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /healthz
${ports.map((p, i) => `  server r${i} 127.0.0.1:${p} check inter 500 fall 2 rise 2 maxconn ${maxconn} observe layer4 error-limit 1 on-error mark-down`).join('\n')}
`,
  );
  // its alerts (a server going DOWN or UP) to a file, for `events()`
  const logFile = join(dir, 'haproxy.log');
  const out = openSync(logFile, 'a');
  const child = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', out, out] });
  closeSync(out);
  children.push(child);
  // ready when it answers through to a healthy server
  const url = `http://127.0.0.1:${lbPort}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`${url}/healthz`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`haproxy exited (${child.exitCode}); config ${cfg}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const events = () =>
    readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((l) => / is (DOWN|UP)/.test(l))
      .map((l) => l.replace(/^.*Server replicas\//, '').replace(/, check duration.*$/, ''));
  return { port: lbPort, url: `${url}/mcp`, child, events };
}

/** Stop a child with SIGTERM and wait for it. */
export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((res) => child.once('exit', res));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await gone;
  clearTimeout(killer);
}

let ids = 0;
/** One tools/call over Streamable HTTP; throws on a non-200 answer or a JSON-RPC error. */
export async function call(url, token, name, args, signal) {
  const res = await fetch(url, {
    method: 'POST',
    signal,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: ++ids,
      method: 'tools/call',
      params: { name, arguments: args },
    }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  const msg = text.startsWith('{')
    ? JSON.parse(text)
    : JSON.parse(
        text
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .at(-1)
          .slice(6),
      );
  if (msg.error) throw new Error(`JSON-RPC ${msg.error.code}: ${msg.error.message}`);
  return msg.result;
}

/** The error code a tool result carries (`busy`, `approval_invalid`, ...), if any. */
export const errorCode = (result) => (result?.isError ? result._meta?.['infra-mcp/error']?.code : undefined);

/** Quantile of a sorted array. */
export const quantile = (sorted, p) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : Number.NaN;
