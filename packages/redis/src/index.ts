import type { ApprovalStore, HealthReport, StoredTask, TaskStore } from '@infra-mcp/core';

/** The few commands the stores use: a node-redis client (`createClient()`) fits, and so does a test double. */
export interface RedisCommands {
  set(
    key: string,
    value: string,
    options: { condition?: 'NX'; expiration?: { type: 'PXAT'; value: number } },
  ): Promise<string | null>;
  exists(key: string): Promise<number>;
  /** Any command (the task store's). */
  sendCommand(args: string[]): Promise<unknown>;
}

interface OwnedClient extends RedisCommands {
  connect(): Promise<unknown>;
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  destroy?(): void;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface RedisApprovalStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://` (TLS). Default `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * Key prefix (default `infra-mcp:`). Also the store's `scope`: tokens issued by one replica are
   * valid on every replica with the same secret and prefix, and refused elsewhere.
   */
  prefix?: string;
  /** Fail a command after this long without an answer (default 5000 ms): an approval never hangs on Redis. */
  commandTimeoutMs?: number;
  /** Use this connected client instead of opening one (it is not closed by `close()`). */
  client?: RedisCommands;
  /** Where connection errors go (default: stderr, once per outage). */
  onError?: (err: Error) => void;
}

/**
 * Single use of approval tokens across replicas and restarts, on Redis or Valkey: a token id is
 * spent with `SET <prefix>approval:<id> 1 NX PXAT <expiresAt>`, atomic on the server, forgotten by
 * Redis when the token could no longer be used anyway. When Redis cannot be reached, `consume`
 * throws: the approved change does not run and the token stays unspent (fail closed).
 */
export class RedisApprovalStore implements ApprovalStore {
  readonly scope: string;
  readonly prefix: string;
  private readonly options: RedisApprovalStoreOptions;
  private client?: Promise<RedisCommands>;
  private owned?: OwnedClient;

  /**
   * A store that connects at its first use (the `redis` client loads then): a server that never
   * approves a change, or only lists its tools, never touches Redis. A failed connection is
   * retried at the next use.
   */
  constructor(options: RedisApprovalStoreOptions = {}) {
    this.options = options;
    this.prefix = options.prefix ?? 'infra-mcp:';
    this.scope = `redis:${this.prefix}`;
    if (options.client) this.client = Promise.resolve(options.client);
  }

  /** A store connected now: throws when Redis cannot be reached. */
  static async connect(options: RedisApprovalStoreOptions = {}): Promise<RedisApprovalStore> {
    const store = new RedisApprovalStore(options);
    await store.connection();
    return store;
  }

  /** The connection (opened at first use). @internal */
  connection(): Promise<RedisCommands> {
    if (!this.client) {
      const opening = openClient(this.options).then((c) => {
        this.owned = c;
        return c as RedisCommands;
      });
      opening.catch(() => {
        if (this.client === opening) this.client = undefined;
      });
      this.client = opening;
    }
    return this.client;
  }

  private key(id: string): string {
    return `${this.prefix}approval:${id}`;
  }

  async consume(id: string, expiresAt: number): Promise<boolean> {
    // PXAT in the past would fail the command: keep the mark at least a minute
    const at = Math.max(expiresAt, Date.now() + 60_000);
    const reply = await (await this.connection()).set(this.key(id), '1', {
      condition: 'NX',
      expiration: { type: 'PXAT', value: at },
    });
    return reply === 'OK';
  }

  async used(id: string): Promise<boolean> {
    return (await (await this.connection()).exists(this.key(id))) > 0;
  }

  /**
   * A PING, bounded by `commandTimeoutMs`: not ok while Redis cannot be reached (the client
   * reconnects by itself; the next check after that is ok again).
   */
  async health(): Promise<HealthReport> {
    const where = `Redis ${redactUrl(this.options.url ?? 'redis://127.0.0.1:6379')} (prefix ${this.prefix})`;
    const limit = this.options.commandTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.connection().then((c) => c.sendCommand(['PING'])),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${limit} ms`)), limit);
        }),
      ]);
      return { ok: true, message: `reached ${where}` };
    } catch (err) {
      return {
        ok: false,
        message: `cannot reach ${where}: ${(err as Error).message}; approved calls and tasks fail until it answers`,
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.client?.catch(() => {});
    const c = this.owned;
    this.owned = undefined;
    this.client = undefined;
    if (!c) return;
    try {
      if (c.close) await c.close();
      else await c.quit?.();
    } catch {
      c.destroy?.();
    }
  }
}

async function openClient(options: RedisApprovalStoreOptions): Promise<OwnedClient> {
  const { createClient } = await import('redis');
  const url = options.url ?? 'redis://127.0.0.1:6379';
  let reported = false;
  const client = createClient({
    url,
    // commands while disconnected fail at once instead of waiting in a queue: a call answers an
    // error naming Redis rather than hanging until its timeout
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.commandTimeoutMs ?? 5000,
      reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000),
    },
  }) as unknown as OwnedClient;
  client.on('error', (err: Error) => {
    if (options.onError) options.onError(err);
    else if (!reported) {
      reported = true;
      process.stderr.write(`infra-mcp: approval store ${redactUrl(url)}: ${err.message}\n`);
    }
  });
  (client as unknown as { on(e: 'ready', l: () => void): void }).on('ready', () => {
    reported = false;
  });
  // node-redis keeps retrying a first connection that fails: bound the wait
  const limit = options.commandTimeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection within ${limit} ms`)), limit);
      }),
    ]);
  } catch (err) {
    client.destroy?.();
    throw new Error(`cannot reach the approval store at ${redactUrl(url)}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** The URL without its password (for messages). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable url)';
  }
}

export interface RedisTaskStoreOptions extends Omit<RedisApprovalStoreOptions, 'prefix'> {
  /** Key prefix (default `infra-mcp:`): `<prefix>task:<id>` and `<prefix>tasks:<owner>`. */
  prefix?: string;
  /** How long a task still running is kept when its replica is gone (default 24 h). */
  runningTtlMs?: number;
}

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
// compare-and-set: the task store's `update` runs the change in JS, then writes only if no one else did
const CAS = `local cur = redis.call('GET', KEYS[1])
if not cur then return -1 end
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
return 1`;

/**
 * MCP task state on Redis or Valkey, so that any replica answers `tasks/get`, `tasks/result` and
 * `tasks/list` for a task another replica runs. A task is one JSON value (`<prefix>task:<id>`) that
 * Redis drops at its `expiresAt` once finished (a running one is kept `runningTtlMs`); an owner's
 * tasks are a sorted set by creation time. `update` is a compare-and-set loop (EVAL). Bounded by
 * the TTLs, not by a count: `create` always accepts.
 */
export class RedisTaskStore implements TaskStore {
  /** Replicas poll the tasks they run here, so a tasks/cancel on any replica stops the call. */
  readonly shared = true;
  readonly prefix: string;
  private readonly runningTtlMs: number;
  private readonly conn: RedisApprovalStore;

  constructor(options: RedisTaskStoreOptions = {}) {
    this.prefix = options.prefix ?? 'infra-mcp:';
    this.runningTtlMs = options.runningTtlMs ?? 24 * 3600_000;
    // the approval store's lazy connection, reused (its own keys are not touched)
    this.conn = new RedisApprovalStore({ ...options, prefix: this.prefix });
  }

  private async cmd(args: (string | number)[]): Promise<unknown> {
    return (await this.conn.connection()).sendCommand(args.map(String));
  }

  private expiry(entry: StoredTask): number {
    return TERMINAL.has(entry.task.status)
      ? Math.max(entry.expiresAt, Date.now() + 1000)
      : Math.max(entry.expiresAt, Date.now() + this.runningTtlMs);
  }

  private taskKey(id: string): string {
    return `${this.prefix}task:${id}`;
  }

  private ownerKey(owner: string): string {
    return `${this.prefix}tasks:${owner}`;
  }

  async create(entry: StoredTask): Promise<boolean> {
    const at = this.expiry(entry);
    await this.cmd(['SET', this.taskKey(entry.task.taskId), JSON.stringify(entry), 'PXAT', at]);
    const created = Date.parse(entry.task.createdAt) || Date.now();
    await this.cmd(['ZADD', this.ownerKey(entry.owner), created, entry.task.taskId]);
    await this.cmd(['PEXPIREAT', this.ownerKey(entry.owner), Date.now() + this.runningTtlMs]);
    return true;
  }

  async get(taskId: string): Promise<StoredTask | undefined> {
    const raw = (await this.cmd(['GET', this.taskKey(taskId)])) as string | null;
    return raw ? (JSON.parse(raw) as StoredTask) : undefined;
  }

  async update(taskId: string, change: (entry: StoredTask) => StoredTask): Promise<StoredTask | undefined> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const raw = (await this.cmd(['GET', this.taskKey(taskId)])) as string | null;
      if (!raw) return undefined;
      const next = change(JSON.parse(raw) as StoredTask);
      const done = Number(
        await this.cmd(['EVAL', CAS, 1, this.taskKey(taskId), raw, JSON.stringify(next), this.expiry(next)]),
      );
      if (done === 1) return next;
      if (done === -1) return undefined;
    }
    throw new Error(`task ${taskId}: too many concurrent updates`);
  }

  async list(owner: string, cursor: string | undefined, limit: number) {
    const key = this.ownerKey(owner);
    let start = 0;
    if (cursor) {
      const rank = (await this.cmd(['ZRANK', key, cursor])) as number | null;
      start = rank === null ? 0 : Number(rank) + 1;
    }
    const ids = (await this.cmd(['ZRANGE', key, start, start + limit - 1])) as string[];
    if (!ids.length) return { tasks: [] };
    const raws = (await this.cmd(['MGET', ...ids.map((id) => this.taskKey(id))])) as (string | null)[];
    const gone = ids.filter((_, i) => !raws[i]);
    if (gone.length) await this.cmd(['ZREM', key, ...gone]);
    const tasks = raws.filter((r): r is string => !!r).map((r) => JSON.parse(r) as StoredTask);
    const total = Number(await this.cmd(['ZCARD', key]));
    const last = ids.at(-1)!;
    const lastRank = (await this.cmd(['ZRANK', key, last])) as number | null;
    const more = lastRank === null ? total > start + tasks.length : Number(lastRank) + 1 < total;
    return { tasks, ...(more && tasks.length ? { nextCursor: tasks.at(-1)!.task.taskId } : {}) };
  }

  health(): Promise<HealthReport> {
    return this.conn.health();
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}
