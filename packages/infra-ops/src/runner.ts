/**
 * The safe command runner shared by the terraform and helm tools: an argv array (never a shell),
 * a working directory already checked to lie under a configured root ({@link resolveUnder}), an
 * environment built from an allow-list, a timeout that kills the whole process group, output capped
 * (head and tail kept) and secrets masked.
 */
import { spawn } from 'node:child_process';
import { matchesAny, OutputCapture, ToolError } from '@infra-mcp/core';

export interface RunSpec {
  /** Binary name (looked up on PATH) or absolute path. */
  binary: string;
  /** The config key that sets the binary, named when it is missing (`plugins.terraform.binary`). */
  binaryKey: string;
  args: readonly string[];
  /** Working directory: checked by the caller (resolveUnder). */
  cwd: string;
  /** Environment the child gets: `allow` filters `from` (names or globs); `set` is added as is. */
  env: { from: Record<string, string | undefined>; allow: readonly string[]; set?: Record<string, string> };
  timeoutMs: number;
  /** Bytes kept of stdout and of stderr each (head and tail halves); what is over is cut in the middle. */
  maxOutputBytes: number;
  /** Masks text (core's redaction: known secrets, credential patterns) before anything is cut or kept. */
  mask: (text: string) => string;
  /**
   * Hand stdout back unmasked: for output the caller parses and shows only after hiding secrets itself
   * (a rendered manifest, whose masked Secret values could no longer be diffed). Never for output that
   * reaches an answer or the audit as is.
   */
  rawStdout?: boolean;
  signal?: AbortSignal;
}

export interface RunResult {
  argv: string[];
  exitCode: number | null;
  /** The signal that ended the process (SIGKILL after a timeout). */
  killedBy: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Bytes the process wrote, before the cap. */
  stdoutBytes: number;
  stderrBytes: number;
  /** Whether stdout or stderr was cut to the cap. */
  capped: boolean;
  durationMs: number;
}

/** The child's environment: only allow-listed names from `from`, plus `set`. */
export function childEnv(env: RunSpec['env']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env.from)) {
    if (v !== undefined && matchesAny(k, env.allow)) out[k] = v;
  }
  return { ...out, ...(env.set ?? {}) };
}

/** Runs the binary; resolves with its exit whatever the code (the caller decides what a failure is). */
export function run(spec: RunSpec): Promise<RunResult> {
  const started = performance.now();
  const argv = [spec.binary, ...spec.args];
  return new Promise((resolve, reject) => {
    if (spec.signal?.aborted) {
      reject(new ToolError('cancelled', `${spec.binary} was not started: the call was cancelled`));
      return;
    }
    const child = spawn(spec.binary, spec.args, {
      cwd: spec.cwd,
      env: childEnv(spec.env),
      shell: false,
      detached: true, // its own process group: a timeout kills the tool and its children
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = new OutputCapture(spec.maxOutputBytes);
    const err = new OutputCapture(spec.maxOutputBytes);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const stop = () => {
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 1000).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, spec.timeoutMs);
    const onAbort = () => stop();
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      done();
      if (e.code === 'ENOENT' || e.code === 'EACCES')
        reject(
          new ToolError(
            'binary_not_found',
            `${spec.binary} cannot be run (${e.code === 'ENOENT' ? 'not found' : 'not executable'})`,
            `install it, or set ${spec.binaryKey} to its path`,
          ),
        );
      else reject(new ToolError('backend_error', `${spec.binary} failed to start: ${spec.mask(e.message)}`));
    });
    child.on('close', (code, signal) => {
      done();
      // the group may hold children that outlived the leader
      if (timedOut) killGroup('SIGKILL');
      resolve({
        argv: argv.map(spec.mask),
        exitCode: code,
        killedBy: signal,
        timedOut,
        stdout: out.text(spec.rawStdout ? (t) => t : spec.mask),
        stderr: err.text(spec.mask),
        stdoutBytes: out.total,
        stderrBytes: err.total,
        capped: out.capped || err.capped,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

/** What the operations log keeps of a run (bounded by core's audit `details` limit). */
export function runDetails(r: RunResult, tailBytes = 1024): Record<string, unknown> {
  const tail = (s: string) => (s.length > tailBytes ? `…${s.slice(-tailBytes)}` : s);
  return {
    argv: r.argv,
    exitCode: r.exitCode,
    ...(r.killedBy ? { killedBy: r.killedBy } : {}),
    ...(r.timedOut ? { timedOut: true } : {}),
    durationMs: r.durationMs,
    stdoutBytes: r.stdoutBytes,
    stderrBytes: r.stderrBytes,
    stdout: tail(r.stdout),
    stderr: tail(r.stderr),
  };
}

/** A run that did not exit 0 as a ToolError carrying its (masked, capped) stderr and run details. */
export function failure(what: string, r: RunResult, hint: string): ToolError {
  if (r.timedOut)
    return new ToolError(
      'timeout',
      `${what} timed out after ${r.durationMs} ms; the process group was killed`,
      'raise timeoutMs in the plugin config, or narrow the run',
      runDetails(r),
    );
  const stderr = (r.stderr || r.stdout).trim();
  const last = stderr.length > 2000 ? `…${stderr.slice(-2000)}` : stderr;
  return new ToolError(
    'command_failed',
    `${what} exited ${r.exitCode ?? r.killedBy}${last ? `:\n${last}` : ''}`,
    hint,
    runDetails(r),
  );
}
