/**
 * A circuit breaker for one backend instance: after `failures` consecutive failures it opens and
 * calls fail at once with a clear message; after `cooldownMs` one probe goes through (half-open);
 * its success closes the breaker, its failure opens it for another cooldown.
 *
 * Written here rather than taken from opossum (a failure percentage over a rolling window, its own
 * timeouts and timers) or cockatiel (reads Date.now and sets its own timers): this one counts
 * consecutive failures, reads an injected clock, and knows since when the backend is down.
 */
import { ToolError } from './errors.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker (default 5). */
  failures?: number;
  /** How long an open breaker refuses calls before one probe goes through, ms (default 30 s). */
  cooldownMs?: number;
}

export const BREAKER_DEFAULTS = { failures: 5, cooldownMs: 30_000 } as const;

export class CircuitBreaker {
  private consecutive = 0;
  private openedAt?: number;
  private retryAt = 0;
  private probing = false;
  /** Times the breaker opened (a metric). */
  opened = 0;

  constructor(
    /** `plugin/instance`, for the message. */
    readonly name: string,
    private readonly options: Required<BreakerOptions>,
    private readonly now: () => number,
  ) {}

  get state(): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return this.now() >= this.retryAt ? 'half_open' : 'open';
  }

  get failures(): number {
    return this.consecutive;
  }

  /** Before a request: throws `backend_unavailable` while open (and while a half-open probe runs). */
  enter(): { probe: boolean } {
    if (this.openedAt === undefined) return { probe: false };
    if (this.now() >= this.retryAt && !this.probing) {
      this.probing = true;
      return { probe: true };
    }
    throw this.unavailable();
  }

  success(): void {
    this.consecutive = 0;
    this.openedAt = undefined;
    this.probing = false;
  }

  failure(): void {
    this.consecutive++;
    this.probing = false;
    if (this.openedAt !== undefined || this.consecutive >= this.options.failures) {
      if (this.openedAt === undefined) {
        this.openedAt = this.now();
        this.opened++;
      }
      this.retryAt = this.now() + this.options.cooldownMs;
    }
  }

  /** A probe that ended neither way (cancelled, a 4xx): let the next call probe. */
  abandon(): void {
    this.probing = false;
  }

  private unavailable(): ToolError {
    const since = new Date(this.openedAt!).toISOString();
    const retry = new Date(Math.max(this.retryAt, this.now())).toISOString();
    return new ToolError(
      'backend_unavailable',
      `backend ${this.name} unavailable since ${since} after ${this.consecutive} failures; retrying at ${retry}`,
      'the backend failed repeatedly; wait until the retry time, check it (infra-mcp doctor), or use another instance',
      { since, retryAt: retry, failures: this.consecutive },
    );
  }
}
