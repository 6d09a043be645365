import type { CallLimits } from '../call.js';

/** Why a request was refused before any MCP work: the concurrency limit it hit. */
export interface Busy {
  message: string;
}

/**
 * The call pipeline's concurrency limits (`limits`), applied at the HTTP door: a request carrying
 * more tools/call than there are free slots is refused with 429 before a protocol server, policy
 * check or audit record is made for it. The pipeline still checks its own count (stdio, and task
 * calls that outlive their request).
 */
export class Admission {
  private running = 0;
  private readonly perCaller = new Map<string, number>();
  private readonly concurrent: number;
  private readonly callerLimit: number;

  constructor(limits: CallLimits = {}) {
    this.concurrent = limits.concurrent ?? 64;
    this.callerLimit = limits.perCaller ?? 16;
  }

  /**
   * Reserve `calls` slots for `caller` (a token name; undefined: unauthenticated, only the
   * server-wide limit applies, as in the pipeline). Returns the release function, or why not.
   */
  enter(calls: number, caller: string | undefined): (() => void) | Busy {
    if (calls === 0) return () => {};
    const mine = caller === undefined ? 0 : (this.perCaller.get(caller) ?? 0);
    if (this.running + calls > this.concurrent) {
      return {
        message: `Too many requests: the server is busy (${this.running} of ${this.concurrent} calls running); retry in a second, or make fewer calls at once`,
      };
    }
    if (caller !== undefined && mine + calls > this.callerLimit) {
      return {
        message: `Too many requests: ${mine} of your calls are running (the limit is ${this.callerLimit} per caller); wait for one to finish, or make fewer calls at once`,
      };
    }
    this.running += calls;
    if (caller !== undefined) this.perCaller.set(caller, mine + calls);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= calls;
      if (caller === undefined) return;
      const n = (this.perCaller.get(caller) ?? calls) - calls;
      if (n <= 0) this.perCaller.delete(caller);
      else this.perCaller.set(caller, n);
    };
  }

  render(): string {
    return [
      '# HELP infra_mcp_http_calls_running tools/call requests admitted over HTTP and not yet answered.',
      '# TYPE infra_mcp_http_calls_running gauge',
      `infra_mcp_http_calls_running ${this.running}`,
      '',
    ].join('\n');
  }
}
