import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { canonicalJson, sha256 } from './hash.js';
import type { Effect } from './plugin.js';

export type Outcome = 'ok' | 'error' | 'denied' | 'dry_run';

/** One record per tools/call. `hash` chains to the previous record's hash (tamper-evident). */
export interface AuditRecord {
  id: string;
  start: string;
  end: string;
  caller?: string;
  tool: string;
  instance?: string;
  /** Arguments, redacted. */
  args: unknown;
  effect?: Effect;
  dryRun: boolean;
  outcome: Outcome;
  errorCode?: string;
  resultBytes: number;
  prev: string;
  hash: string;
}

export type AuditEntry = Omit<AuditRecord, 'id' | 'prev' | 'hash'>;

/** Where records go. Other packages implement this (e.g. DynamoDB). */
export interface AuditSink {
  readonly name: string;
  /** Hash of the last stored record, to continue the chain across restarts. */
  lastHash?(): Promise<string | undefined>;
  append(record: AuditRecord): Promise<void>;
  /**
   * Atomically read the chain head, build the record on it and store it. Sinks shared between
   * processes (a file every stdio server appends to) implement this so the chain stays one chain.
   */
  appendChained?(build: (prev: string) => AuditRecord): Promise<AuditRecord>;
  /** Throws when records cannot be written right now (checked before a real write runs: fail closed). */
  check?(): Promise<void>;
  close?(): Promise<void>;
}

export const GENESIS = '0'.repeat(64);

export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return sha256(canonicalJson(record));
}

/** Chains records and writes them to every sink, one at a time, in order. */
export class AuditLog {
  private prev: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly sinks: AuditSink[]) {}

  async check(): Promise<void> {
    for (const sink of this.sinks) await sink.check?.();
  }

  /** Append one record. Rejects when a sink fails (the caller reports it; nothing is lost silently). */
  record(entry: AuditEntry): Promise<AuditRecord> {
    const run = this.queue.then(async () => {
      const [primary, ...others] = this.sinks;
      const build = (prev: string): AuditRecord => {
        const base = { id: randomUUID(), ...entry, prev };
        return { ...base, hash: hashRecord(base) };
      };
      let record: AuditRecord;
      const failures: string[] = [];
      if (primary?.appendChained) {
        try {
          record = await primary.appendChained(build);
        } catch (err) {
          // the record still goes to the other sinks; the chain head stays where the primary has it
          record = build(this.prev ?? GENESIS);
          failures.push(`${primary.name}: ${(err as Error).message}`);
        }
        for (const sink of others) await this.deliver(sink, record, failures);
      } else {
        if (this.prev === undefined) this.prev = (await primary?.lastHash?.()) ?? GENESIS;
        record = build(this.prev);
        for (const sink of this.sinks) await this.deliver(sink, record, failures);
        if (!failures.some((f) => f.startsWith(`${primary?.name}:`))) this.prev = record.hash;
      }
      if (failures.length) throw new Error(`audit sink failed: ${failures.join('; ')}`);
      return record;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async deliver(sink: AuditSink, record: AuditRecord, failures: string[]): Promise<void> {
    try {
      await sink.append(record);
    } catch (err) {
      failures.push(`${sink.name}: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    await this.queue;
    for (const sink of this.sinks) await sink.close?.();
  }
}

/** Default audit file: $XDG_STATE_HOME/infra-mcp/audit.jsonl (~/.local/state/infra-mcp/audit.jsonl). */
export function defaultAuditPath(env: Record<string, string | undefined> = process.env): string {
  const state = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'infra-mcp', 'audit.jsonl');
}

/**
 * Appends records to a JSONL file. Several processes may share the file (every stdio server a
 * desktop client starts appends to the default one), so each append takes a lock file, reads the
 * chain head from the file itself and appends under the lock. The file work is synchronous: a
 * handful of syscalls (~50 µs) instead of a dozen thread-pool round trips (~1 ms) per call.
 */
export class JsonlAuditSink implements AuditSink {
  readonly name = 'jsonl';
  private dirReady = false;
  /** The file as this process last left it: when its size is unchanged, the head is known. */
  private known?: { size: number; hash: string };

  constructor(readonly path: string = defaultAuditPath()) {}

  /** Hash of the last record in the file (reads backwards from the end, whatever a record's size). */
  async lastHash(): Promise<string | undefined> {
    return this.readLastHash();
  }

  private readLastHash(): string | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'r');
      const { size } = fstatSync(fd);
      let chunk = 64 * 1024;
      for (;;) {
        const len = Math.min(size, chunk);
        const buf = Buffer.alloc(len);
        readSync(fd, buf, 0, len, size - len);
        const text = buf.toString('utf8').trimEnd();
        const nl = text.lastIndexOf('\n');
        if (nl >= 0 || len === size) {
          const last = text.slice(nl + 1);
          if (!last) return undefined;
          try {
            return (JSON.parse(last) as AuditRecord).hash;
          } catch {
            throw new Error(
              `${this.path}: the last line is not a valid audit record; run infra-mcp audit verify`,
            );
          }
        }
        chunk *= 4;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  private ensureDir(): void {
    if (this.dirReady) return;
    mkdirSync(dirname(this.path), { recursive: true });
    this.dirReady = true;
  }

  /** Writable, and the chain head readable (a corrupt tail fails writes closed). */
  async check(): Promise<void> {
    this.ensureDir();
    closeSync(openSync(this.path, 'a', 0o600));
    this.readLastHash();
  }

  async append(record: AuditRecord): Promise<void> {
    this.ensureDir();
    appendFileSync(this.path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  }

  async appendChained(build: (prev: string) => AuditRecord): Promise<AuditRecord> {
    this.ensureDir();
    return withLockFile(`${this.path}.lock`, () => {
      const size = statSync(this.path, { throwIfNoEntry: false })?.size ?? 0;
      const prev = size > 0 && this.known?.size === size ? this.known.hash : (this.readLastHash() ?? GENESIS);
      const record = build(prev);
      const line = `${JSON.stringify(record)}\n`;
      appendFileSync(this.path, line, { mode: 0o600 });
      this.known = { size: size + Buffer.byteLength(line), hash: record.hash };
      return record;
    });
  }
}

const LOCK_WAIT_MS = 5000;
const LOCK_STALE_MS = 30_000;

/**
 * Run `fn` holding an exclusive lock file (O_EXCL create). Taking a free lock is synchronous; a
 * held one is retried asynchronously. A lock older than 30 s is taken as stale.
 */
async function withLockFile<T>(lock: string, fn: () => T): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > LOCK_STALE_MS) rmSync(lock, { force: true });
      else if (Date.now() > deadline) {
        throw new Error(
          `audit log is locked by another process (${lock}); remove the file if no infra-mcp is running`,
        );
      } else await new Promise((r) => setTimeout(r, 1 + Math.random() * 4));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

export class StderrAuditSink implements AuditSink {
  readonly name = 'stderr';
  async append(record: AuditRecord): Promise<void> {
    process.stderr.write(`audit ${JSON.stringify(record)}\n`);
  }
}

/** Keeps records in memory (tests, embedding). */
export class MemoryAuditSink implements AuditSink {
  readonly name = 'memory';
  readonly records: AuditRecord[] = [];
  async lastHash() {
    return this.records[this.records.length - 1]?.hash;
  }
  async append(record: AuditRecord) {
    this.records.push(record);
  }
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  /** 1-based line of the first broken record, and what is wrong with it. */
  error?: { line: number; id?: string; problem: string };
}

/** Check a chain of records: each hash matches its content and links to the one before. */
export function verifyRecords(records: readonly AuditRecord[]): VerifyResult {
  let prev = records[0]?.prev ?? GENESIS;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const { hash, ...rest } = r;
    if (hashRecord(rest) !== hash) {
      return {
        ok: false,
        records: records.length,
        error: { line: i + 1, id: r.id, problem: 'record content does not match its hash (changed)' },
      };
    }
    if (i > 0 && r.prev !== prev) {
      return {
        ok: false,
        records: records.length,
        error: {
          line: i + 1,
          id: r.id,
          problem: 'record does not follow the previous one (a record was removed, inserted or reordered)',
        },
      };
    }
    prev = hash;
  }
  return { ok: true, records: records.length };
}

export async function verifyAuditFile(path: string): Promise<VerifyResult> {
  const text = await readFile(path, 'utf8');
  const records: AuditRecord[] = [];
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (let i = 0; i < lines.length; i++) {
    try {
      records.push(JSON.parse(lines[i]!));
    } catch {
      return { ok: false, records: lines.length, error: { line: i + 1, problem: 'line is not valid JSON' } };
    }
  }
  const result = verifyRecords(records);
  if (result.ok && records[0] && records[0].prev !== GENESIS) {
    return {
      ok: false,
      records: records.length,
      error: {
        line: 1,
        id: records[0].id,
        problem: 'first record does not start the chain (records before it were removed)',
      },
    };
  }
  return result;
}
