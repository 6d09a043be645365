/**
 * Requests of plugins to their backends, made resilient in one place: a span per request (a child
 * of the tool call's span), a circuit breaker per backend instance, retries of idempotent reads
 * within the call's deadline, and a TTL cache for discovery reads. A plugin gets its instance's
 * `Backend` as `SetupContext.backend` and routes each request through `backend.request`.
 */
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { BREAKER_DEFAULTS, type BreakerOptions, CircuitBreaker } from './breaker.js';
import { BackendCache, CACHE_DEFAULTS, type CacheOptions } from './cache.js';
import { isToolError } from './errors.js';
import { label } from './metrics.js';
import {
  backoffMs,
  isIdempotent,
  RETRY_DEFAULTS,
  RETRY_STATUSES,
  type RetryOptions,
  sleep,
} from './retry.js';
import { currentScope, otel, tracerOf } from './tracing.js';

export type { BreakerOptions, CacheOptions, RetryOptions };

/** Time, waiting and chance, injectable so tests need no real waits. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

export const systemClock: Clock = { now: Date.now, sleep, random: Math.random };

export interface ResilienceOptions {
  /** Circuit breaker per backend instance; `false` turns it off. */
  breaker?: BreakerOptions | false;
  /** Retries of idempotent requests (GET, HEAD); `false` turns them off. */
  retry?: RetryOptions | false;
  /** TTL cache of discovery reads (`backend.cached`); `false` turns it off. */
  cache?: CacheOptions | false;
  clock?: Clock;
  /** Where spans go (default: the globally registered provider; none registered: no-op spans). */
  tracerProvider?: TracerProvider;
}

export interface BackendRequest<T> {
  /** HTTP method (or the backend's verb); only GET, HEAD and OPTIONS are ever retried. */
  method: string;
  /** What is asked, for the span name: a path, without query string or credentials. */
  target: string;
  signal?: AbortSignal;
  /** The HTTP status of an answer: 502/503/504 are retried (idempotent methods) and 5xx count as failures. */
  status?: (answer: T) => number;
  /**
   * Whether an answer shows the backend failing (default: status >= 500). A 5xx the backend gives on
   * purpose (Prometheus answers a query timeout with 503) is not the backend being down.
   */
  fault?: (answer: T, status: number) => boolean;
  /** Extra span attributes (server.address, ...). */
  attributes?: Record<string, string | number | boolean>;
}

/** Errors that show the backend cannot be reached: a failure, and worth one more try for a read. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorKind(err: unknown, signal?: AbortSignal): 'connection' | 'timeout' | 'other' {
  if (signal?.aborted) return 'other';
  if (isToolError(err)) {
    if (err.code === 'backend_unreachable') return 'connection';
    return err.code === 'timeout' ? 'timeout' : 'other';
  }
  const e = err as { code?: string; cause?: { code?: string } } | undefined;
  if (CONNECTION_CODES.has(e?.code ?? '') || CONNECTION_CODES.has(e?.cause?.code ?? '')) return 'connection';
  if (e?.code === 'ETIMEDOUT') return 'timeout';
  return 'other';
}

interface Counts {
  requests: Map<string, number>;
  retries: number;
}

/** What a plugin gets of its instance's backend (`SetupContext.backend`). */
export interface Backend {
  readonly plugin: string;
  readonly instance: string;
  /** `plugin/instance`, as in the breaker's message. */
  readonly name: string;
  /**
   * Send one request through the breaker, with a span, retried (idempotent methods only) on
   * connection errors and 502/503/504 while the call's deadline allows. `send` makes one attempt.
   */
  request<T>(req: BackendRequest<T>, send: (attempt: number) => Promise<T>): Promise<T>;
  /** A discovery or metadata read, served from the shared TTL cache when fresh (`key` names the read). */
  cached<T>(key: string, load: () => Promise<T>): Promise<T>;
}

/** One backend instance of one plugin (`prometheus/prod`). */
export class InstanceBackend implements Backend {
  readonly name: string;
  readonly breaker?: CircuitBreaker;
  readonly counts: Counts = { requests: new Map(), retries: 0 };

  constructor(
    readonly plugin: string,
    readonly instance: string,
    private readonly shared: Backends,
  ) {
    this.name = `${plugin}/${instance}`;
    const b = shared.options.breaker;
    if (b !== false)
      this.breaker = new CircuitBreaker(this.name, { ...BREAKER_DEFAULTS, ...b }, shared.clock.now);
  }

  /**
   * Send one request through the breaker, with a span, retried (idempotent methods only) on
   * connection errors and 502/503/504 while the call's deadline allows. `send` makes one attempt.
   */
  async request<T>(req: BackendRequest<T>, send: (attempt: number) => Promise<T>): Promise<T> {
    const { clock, retry } = this.shared;
    const [o, tracer] = await Promise.all([otel(), this.shared.tracer()]);
    const scope = currentScope();
    const deadline = scope?.deadline ?? Number.POSITIVE_INFINITY;
    const attempts = retry && isIdempotent(req.method) ? retry.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      let probe = false;
      try {
        probe = this.breaker?.enter().probe ?? false;
      } catch (err) {
        this.count('unavailable');
        throw err;
      }
      const span = tracer.startSpan(
        `${req.method} ${req.target}`,
        {
          kind: o.SpanKind.CLIENT,
          attributes: {
            'http.request.method': req.method,
            'url.path': req.target,
            'infra_mcp.plugin': this.plugin,
            'infra_mcp.instance': this.instance,
            ...(attempt > 1 ? { 'http.request.resend_count': attempt - 1 } : {}),
            ...req.attributes,
          },
        },
        scope?.trace ?? o.context.active(),
      );
      let answer: T | undefined;
      let error: unknown;
      let failed: boolean;
      let again: boolean;
      try {
        answer = await send(attempt);
        const status = req.status?.(answer);
        if (status !== undefined) span.setAttribute('http.response.status_code', status);
        failed = status !== undefined && (req.fault ? req.fault(answer, status) : status >= 500);
        again = failed && RETRY_STATUSES.has(status!);
        if (failed) span.setStatus({ code: o.SpanStatusCode.ERROR, message: `HTTP ${status}` });
      } catch (err) {
        error = err;
        const kind = errorKind(err, req.signal);
        failed = kind !== 'other';
        again = kind === 'connection';
        span.setAttribute('error.type', isToolError(err) ? err.code : ((err as Error)?.name ?? 'Error'));
        span.setStatus({ code: o.SpanStatusCode.ERROR, message: (err as Error)?.message?.slice(0, 200) });
      }
      span.end();
      if (failed) this.breaker?.failure();
      else if (error === undefined) this.breaker?.success();
      else if (probe) this.breaker?.abandon();
      this.count(failed ? 'failure' : error === undefined ? 'ok' : 'error');
      const wait =
        again && attempt < attempts ? backoffMs(attempt, retry as Required<RetryOptions>, clock.random) : -1;
      if (wait < 0 || req.signal?.aborted || clock.now() + wait >= deadline) {
        if (error !== undefined) throw error;
        return answer as T;
      }
      this.counts.retries++;
      await clock.sleep(wait, req.signal);
    }
  }

  /** A discovery or metadata read, served from the shared TTL cache when fresh (`key` names the read). */
  cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    return this.shared.cache.get(this.name, key, load);
  }

  private count(outcome: string): void {
    this.counts.requests.set(outcome, (this.counts.requests.get(outcome) ?? 0) + 1);
  }
}

/** Every backend instance of a server, their shared cache, and their metrics. */
export class Backends {
  readonly clock: Clock;
  readonly retry: Required<RetryOptions> | false;
  readonly cache: BackendCache;
  private tracing?: Promise<Tracer>;
  private readonly all = new Map<string, InstanceBackend>();

  constructor(readonly options: ResilienceOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.retry = options.retry === false ? false : { ...RETRY_DEFAULTS, ...options.retry };
    this.cache = new BackendCache(
      options.cache === false ? { max: 0, ttlMs: 1 } : { ...CACHE_DEFAULTS, ...options.cache },
      this.clock.now,
    );
  }

  /** The tracer of backend and tool call spans (the OpenTelemetry API loads at the first call). */
  tracer(): Promise<Tracer> {
    this.tracing ??= tracerOf(this.options.tracerProvider);
    return this.tracing;
  }

  get(plugin: string, instance: string): InstanceBackend {
    const key = `${plugin}/${instance}`;
    let b = this.all.get(key);
    if (!b) {
      b = new InstanceBackend(plugin, instance, this);
      this.all.set(key, b);
    }
    return b;
  }

  /** Lines of the Prometheus text format for /metrics. */
  metricLines(): string[] {
    const out: string[] = [];
    const each = (fn: (b: InstanceBackend, l: string) => string[]) => {
      for (const b of this.all.values())
        out.push(...fn(b, `plugin="${label(b.plugin)}",instance="${label(b.instance)}"`));
    };
    out.push(
      '# HELP infra_mcp_backend_requests_total Requests to backends by outcome (ok, error: answered, failure: counted by the breaker, unavailable: refused by an open breaker).',
      '# TYPE infra_mcp_backend_requests_total counter',
    );
    each((b, l) =>
      [...b.counts.requests].map(([o, n]) => `infra_mcp_backend_requests_total{${l},outcome="${o}"} ${n}`),
    );
    out.push(
      '# HELP infra_mcp_backend_retries_total Idempotent backend requests sent again after a connection error or 502/503/504.',
      '# TYPE infra_mcp_backend_retries_total counter',
    );
    each((b, l) => [`infra_mcp_backend_retries_total{${l}} ${b.counts.retries}`]);
    out.push(
      '# HELP infra_mcp_backend_breaker_state Circuit breaker state per backend instance (1 for the current state).',
      '# TYPE infra_mcp_backend_breaker_state gauge',
    );
    each((b, l) => {
      if (!b.breaker) return [];
      const now = b.breaker.state;
      return (['closed', 'open', 'half_open'] as const).map(
        (s) => `infra_mcp_backend_breaker_state{${l},state="${s}"} ${s === now ? 1 : 0}`,
      );
    });
    out.push(
      "# HELP infra_mcp_backend_breaker_opened_total Times a backend instance's circuit breaker opened.",
      '# TYPE infra_mcp_backend_breaker_opened_total counter',
    );
    each((b, l) => (b.breaker ? [`infra_mcp_backend_breaker_opened_total{${l}} ${b.breaker.opened}`] : []));
    out.push(
      '# HELP infra_mcp_cache_requests_total Discovery reads by cache result (hit, miss).',
      '# TYPE infra_mcp_cache_requests_total counter',
    );
    for (const [owner, c] of this.cache.counts) {
      const [plugin, instance] = [owner.slice(0, owner.indexOf('/')), owner.slice(owner.indexOf('/') + 1)];
      const l = `plugin="${label(plugin)}",instance="${label(instance)}"`;
      out.push(`infra_mcp_cache_requests_total{${l},result="hit"} ${c.hits}`);
      out.push(`infra_mcp_cache_requests_total{${l},result="miss"} ${c.misses}`);
    }
    out.push(
      '# HELP infra_mcp_cache_entries Entries in the discovery cache.',
      '# TYPE infra_mcp_cache_entries gauge',
      `infra_mcp_cache_entries ${this.cache.size}`,
    );
    return out;
  }
}
