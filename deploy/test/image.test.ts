import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What the image would hold. No container engine or base image can be had here, so this builds the
// final stage's file set the way deploy/Dockerfile does (`pnpm --filter infra-mcp deploy --prod`),
// then runs it like the image: from a clean folder, with the pinned Node major, as uid 10001 over
// root-owned files when this runs as root, answering /healthz and tools/list over HTTP.
const root = fileURLToPath(new URL('../..', import.meta.url));
const dockerfile = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8');
const pinned = /^ARG NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(dockerfile);
const TOKEN = 'image-token-0123456789abcdef';

let work: string;
let out: string;
let child: ChildProcess | undefined;

beforeAll(() => {
  if (!existsSync(join(root, 'apps/server/dist/cli.js')))
    throw new Error('apps/server/dist is missing: run `pnpm build` first (the root `pnpm test` builds)');
  work = mkdtempSync(join(tmpdir(), 'infra-mcp-image-'));
  out = join(work, 'app');
  // as the Dockerfile: the optional GPL peer @infra-mcp/proxmox stays out (and is not looked up)
  const deploy = ['deploy', '--prod', '--legacy', '--offline', '--config.auto-install-peers=false', out];
  execFileSync('pnpm', ['--filter', 'infra-mcp', ...deploy], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  // the Dockerfile's clean-up step
  execFileSync('rm', ['-rf', 'src', 'test', 'tsconfig.json', 'tsup.config.ts'], { cwd: out });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
  if (work) rmSync(work, { recursive: true, force: true }); // the copied node binary is ~120 MB
});

function files(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.name === 'node_modules') return [];
    return e.isDirectory() ? files(p, base) : [relative(base, p)];
  });
}

describe('deploy/Dockerfile: the production file set', () => {
  it('pins an exact Node 24 release, builds in a separate stage and runs as a non-root user', () => {
    expect(pinned, 'ARG NODE_VERSION=<major.minor.patch>').not.toBeNull();
    expect(pinned![1]).toBe('24');
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim AS build$/m);
    expect(dockerfile).toMatch(/^COPY --from=build --chown=0:0 \/out \/app$/m);
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(
      /pnpm --filter infra-mcp deploy --prod --legacy --config.auto-install-peers=false \/out/,
    );
  });

  it('holds the bundle, package.json and production dependencies only', () => {
    const own = files(out).sort();
    expect(own).toContain('dist/cli.js');
    expect(own).toContain('package.json');
    expect(own.filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
    expect(own.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
    const modules = readdirSync(join(out, 'node_modules'));
    // the runtime dependencies (lazily loaded clients) are there; dev tools and bundled workspace packages are not
    expect(existsSync(join(out, 'node_modules/redis/package.json'))).toBe(true);
    expect(existsSync(join(out, 'node_modules/@aws-sdk/credential-providers/package.json'))).toBe(true);
    for (const dev of [
      'vitest',
      'typescript',
      'tsup',
      '@infra-mcp',
      '@biomejs',
      '@modelcontextprotocol',
      'zod',
    ])
      expect(modules, dev).not.toContain(dev);
  });

  it('runs infra-mcp --http with the pinned Node major from a clean folder: /healthz and tools/list', async () => {
    expect(process.versions.node.split('.')[0]).toBe(pinned![1]);
    // no node_modules above the folder that could lend it a package
    for (let d = dirname(out); d !== dirname(d); d = dirname(d))
      expect(existsSync(join(d, 'node_modules')), join(d, 'node_modules')).toBe(false);
    let node = process.execPath;
    let ids: { uid?: number; gid?: number } = {};
    const home = join(work, 'home');
    mkdirSync(home);
    if (process.getuid?.() === 0) {
      // like the image: uid 10001 over files it cannot write (the node binary copied where it may run it)
      node = join(work, 'node');
      copyFileSync(process.execPath, node);
      chmodSync(node, 0o755);
      chmodSync(work, 0o755);
      execFileSync('chown', ['10001:10001', home]);
      ids = { uid: 10001, gid: 10001 };
    }
    child = spawn(node, [join(out, 'dist/cli.js'), '--http', '127.0.0.1:0'], {
      cwd: out,
      ...ids,
      env: { HOME: home, PATH: '/usr/bin:/bin', INFRA_MCP_TOKENS: `ops:${TOKEN}`, NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in 15 s:\n${err}`)), 15_000);
      child!.stderr!.setEncoding('utf8').on('data', (c: string) => {
        err += c;
        const m = /listening on (http:\/\/\S+\/mcp)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child!.once('exit', (code) => reject(new Error(`exited ${code}:\n${err}`)));
    });
    const health = await fetch(url.replace('/mcp', '/healthz'));
    expect(health.status).toBe(200);
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        authorization: `Bearer ${TOKEN}`,
        'mcp-protocol-version': '2025-06-18',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    const text = await res.text();
    const msg = text.startsWith('{')
      ? JSON.parse(text)
      : JSON.parse(
          text
            .split('\n')
            .find((l) => l.startsWith('data: '))!
            .slice(6),
        );
    expect(Array.isArray(msg.result.tools)).toBe(true);
    const { version } = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'));
    expect(version).toBe(JSON.parse(readFileSync(join(root, 'apps/server/package.json'), 'utf8')).version);
  });
});
