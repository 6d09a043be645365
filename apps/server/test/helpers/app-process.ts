import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Paths of the built artifacts the process-level tests run (the root `pnpm test` builds them first). */
export const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const cliPath = join(root, 'apps/server/dist/cli.js');
export const fixturesPath = join(root, 'packages/testing/dist/conformance.js');

/** Fail with a message saying how to fix it when a build output is missing (never skip silently). */
export function requireBuilt(...paths: string[]): void {
  for (const p of paths) {
    if (!existsSync(p))
      throw new Error(
        `${p} is missing: run \`pnpm build\` first (the root \`pnpm test\` builds before testing)`,
      );
  }
}

/**
 * A clean environment for the app: no INFRA_MCP_* or provider variables leak in from the caller, HOME and
 * the working directory are a fresh temp dir (no ./infra-mcp.yaml, no state written to the real home).
 */
export function cleanEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: dir, XDG_STATE_HOME: join(dir, 'state'), ...extra };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `infra-mcp-${prefix}-`));
}

export interface RunningApp {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Start `infra-mcp --http 127.0.0.1:0 ...args` and resolve once it prints its listening line. */
export async function startHttpApp(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<RunningApp> {
  const child = spawn(process.execPath, [cliPath, '--http', '127.0.0.1:0', ...args], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `infra-mcp did not report listening within ${opts.timeoutMs ?? 15_000} ms; stderr:\n${err}`,
          ),
        ),
      opts.timeoutMs ?? 15_000,
    );
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      err += chunk;
      const m = /infra-mcp: listening on (http:\/\/\S+\/mcp)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`infra-mcp exited (${code ?? signal}) before listening; stderr:\n${err}`));
    });
  });
  return {
    url,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Run a node script to completion, collecting its output. */
export function runNode(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `node ${args.join(' ')} timed out after ${opts.timeoutMs} ms\nstdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-4000)}`,
        ),
      );
    }, opts.timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}
