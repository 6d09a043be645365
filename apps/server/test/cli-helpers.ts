// Running the built CLI over stdio and as a one-shot command. Paths, the build check and the HTTP
// launcher are shared with the conformance and Inspector tests (helpers/app-process.ts).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cliPath as CLI } from './helpers/app-process.js';

export const KV_PLUGIN = fileURLToPath(new URL('./fixtures/kv-plugin.mjs', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion. Env is minimal: no inherited INFRA_MCP_* or plugin variables. */
export function run(
  args: string[],
  opts: { env?: Record<string, string>; input?: string; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** JSON-RPC lines for a stdio session: initialize, initialized, then the given requests. */
export function stdioSession(requests: { method: string; params?: unknown }[]): string {
  const lines: unknown[] = [
    {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'cli-test', version: '1' },
      },
    },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    ...requests.map((r, i) => ({ jsonrpc: '2.0', id: i + 1, ...r })),
  ];
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`;
}

export function responses(stdout: string): Map<number, any> {
  const map = new Map<number, any>();
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const msg = JSON.parse(line);
    if (msg.id !== undefined) map.set(msg.id, msg);
  }
  return map;
}

/** Run a stdio session: send the requests, close stdin once every request has its response. */
export function runStdio(
  args: string[],
  requests: { method: string; params?: unknown }[],
  env: Record<string, string> = {},
): Promise<RunResult & { byId: Map<number, any> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.stdin.end(), 20_000);
    child.stdout.on('data', (c) => {
      stdout += c;
      if (responses(stdout).size >= requests.length + 1) {
        clearTimeout(timer);
        child.stdin.end();
      }
    });
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, byId: responses(stdout) }));
    child.stdin.write(stdioSession(requests));
  });
}
