import { label } from '../metrics.js';

/** Token-bucket rate limit per caller, for the HTTP transport. */
export interface RateLimitOptions {
  /** Requests per second each caller may sustain (tokens added per second). */
  rate: number;
  /** Requests a caller may make at once after being idle (bucket size; default: `rate`, at least 1). */
  burst?: number;
}

/** A refusal: what the limit is and when the next request would pass. */
export interface RateLimited {
  /** Whole seconds until a token is available (the `Retry-After` value, at least 1). */
  retryAfterSeconds: number;
  rate: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets kept before idle ones are dropped (a full bucket is the same as none). */
const MAX_BUCKETS = 10_000;
/** Callers named in metrics labels; the rest are counted under `(other)` so a label set stays bounded. */
const MAX_LABELS = 1000;

export class RateLimiter {
  readonly rate: number;
  readonly burst: number;
  private readonly buckets = new Map<string, Bucket>();
  private readonly limited = new Map<string, number>();

  constructor(
    options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {
    if (!(options.rate > 0) || !Number.isFinite(options.rate))
      throw new Error(
        `http rate limit: rate must be a positive number of requests per second, got ${options.rate}; example: { rate: 10, burst: 20 }`,
      );
    const burst = options.burst ?? Math.max(1, options.rate);
    if (!Number.isInteger(burst) || burst < 1)
      throw new Error(
        `http rate limit: burst must be a whole number >= 1, got ${options.burst}; example: { rate: 10, burst: 20 }`,
      );
    this.rate = options.rate;
    this.burst = burst;
  }

  /**
   * Take one token from `key`'s bucket. `shownAs` is what /metrics counts a refusal under (a token
   * name; not a remote address, which would make the series unbounded).
   */
  take(key: string, shownAs: string): RateLimited | undefined {
    const t = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((t - bucket.at) / 1000) * this.rate);
      bucket.at = t;
    } else {
      if (this.buckets.size >= MAX_BUCKETS) this.sweep(t);
      bucket = { tokens: this.burst, at: t };
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    const counted = this.limited.has(shownAs) || this.limited.size < MAX_LABELS ? shownAs : '(other)';
    this.limited.set(counted, (this.limited.get(counted) ?? 0) + 1);
    return {
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate)),
      rate: this.rate,
      burst: this.burst,
    };
  }

  /** Drop buckets that have refilled (they behave as new ones), else the oldest half. */
  private sweep(t: number): void {
    for (const [key, b] of this.buckets)
      if (b.tokens + ((t - b.at) / 1000) * this.rate >= this.burst) this.buckets.delete(key);
    if (this.buckets.size < MAX_BUCKETS) return;
    let drop = this.buckets.size / 2;
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
  }

  render(): string {
    const lines = [
      '# HELP infra_mcp_http_rate_limited_total HTTP requests refused with 429 by the per-caller rate limit, by caller (token name; unauthenticated callers together).',
      '# TYPE infra_mcp_http_rate_limited_total counter',
      ...[...this.limited].map(([c, n]) => `infra_mcp_http_rate_limited_total{caller="${label(c)}"} ${n}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}

/** The human-readable refusal: the limit and when to retry. */
export function rateLimitMessage(r: RateLimited): string {
  return `Too many requests: the limit is ${r.rate} request${r.rate === 1 ? '' : 's'} per second per caller (bursts of ${r.burst}); retry after ${r.retryAfterSeconds} s`;
}
