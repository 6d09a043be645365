/** Retries of idempotent backend reads: exponential backoff with full jitter, capped, within the call's deadline. */

export interface RetryOptions {
  /** Attempts in all, the first included (default 3; 1 turns retries off). */
  attempts?: number;
  /** First backoff, ms (default 200); doubled each retry. */
  baseMs?: number;
  /** Longest backoff, ms (default 2000). */
  maxMs?: number;
}

export const RETRY_DEFAULTS = { attempts: 3, baseMs: 200, maxMs: 2000 } as const;

/** Only these are retried: the request did not change anything, and a replay is harmless. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Gateway answers: the backend (or a proxy in front) is briefly away. */
export const RETRY_STATUSES = new Set([502, 503, 504]);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method.toUpperCase());
}

/** Wait before retry `n` (1 for the first retry): full jitter over an exponential bound. */
export function backoffMs(n: number, options: Required<RetryOptions>, random: () => number): number {
  const bound = Math.min(options.maxMs, options.baseMs * 2 ** (n - 1));
  return Math.round(random() * bound);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
