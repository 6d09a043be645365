/** A bounded TTL cache for idempotent discovery and metadata reads, shared by every plugin instance. */
import type { LRUCache } from 'lru-cache';

export interface CacheOptions {
  /** Entries kept at most, across all plugins (default 1000; 0 turns caching off). */
  max?: number;
  /** How long an entry is served, ms (default 30 s). */
  ttlMs?: number;
}

export const CACHE_DEFAULTS = { max: 1000, ttlMs: 30_000 } as const;

type Load = () => Promise<unknown>;

export class BackendCache {
  private lru?: Promise<LRUCache<string, object, Load>>;
  /** Per `plugin/instance`: hits and misses. */
  readonly counts = new Map<string, { hits: number; misses: number }>();
  private entries?: LRUCache<string, object, Load>;

  constructor(
    private readonly options: Required<CacheOptions>,
    private readonly now: () => number,
  ) {}

  /** lru-cache loads at the first cached read, not at start. */
  private cache(): Promise<LRUCache<string, object, Load>> {
    const { max, ttlMs } = this.options;
    const now = this.now;
    this.lru ??= import('lru-cache').then(({ LRUCache }) => {
      this.entries = new LRUCache<string, object, Load>({
        max,
        ttl: ttlMs,
        perf: { now },
        // read the clock at every lookup (the default caches it for 1 ms on a timer)
        ttlResolution: 0,
        // a load that fails is not cached; concurrent misses of one key share one load
        fetchMethod: async (_key, _stale, { context }) => ({ value: await context() }),
      });
      return this.entries;
    });
    return this.lru;
  }

  async get<T>(owner: string, key: string, load: () => Promise<T>): Promise<T> {
    const c = this.counts.get(owner) ?? { hits: 0, misses: 0 };
    this.counts.set(owner, c);
    if (this.options.max <= 0) {
      c.misses++;
      return load();
    }
    const lru = await this.cache();
    const status: LRUCache.Status<string, object, Load> = {};
    const entry = (await lru.fetch(`${owner}\u0000${key}`, { context: load, status })) as {
      value: T;
    };
    if (status.fetch === 'hit' || status.fetch === 'inflight') c.hits++;
    else c.misses++;
    return entry.value;
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }
}
