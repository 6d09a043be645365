import { createHash } from 'node:crypto';
import {
  appendFileSync,
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type AuditCheckpoint, defaultCheckpointPath, loadAuditKey, pruneCheckpoint } from './key.js';
import { acquireLock, type LockOptions } from './lock.js';
import { AUDIT_NOTE_TOOL, type AuditEntry, type AuditRecord } from './record.js';
import type { AuditSink } from './sink.js';

/** Default audit file: $XDG_STATE_HOME/infra-mcp/audit.jsonl (~/.local/state/infra-mcp/audit.jsonl). */
export function defaultAuditPath(env: Record<string, string | undefined> = process.env): string {
  const state = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(state, 'infra-mcp', 'audit.jsonl');
}

/** Rotated files are `<file>.<UTC time>` (`audit.jsonl.20261123T193000123Z`), oldest first by name. */
export const ROTATED_SUFFIX = /^\d{8}T\d{9}Z(-\d+)?$/;

export interface JsonlAuditSinkOptions {
  /** Default: `defaultAuditPath()`. */
  path?: string;
  /** Chain key; default `INFRA_MCP_AUDIT_KEY`, else the key file. */
  key?: string | Uint8Array;
  /** Default `~/.config/infra-mcp/audit.key` (created 0600 at first use). */
  keyFile?: string;
  /** Head checkpoint file (default next to the key file, named by the log's path); `false`: none. */
  checkpoint?: string | false;
  /** Start a new file when the current one reaches this size (default 64 MiB; 0: never). */
  rotateBytes?: number;
  lock?: LockOptions;
  env?: Record<string, string | undefined>;
}

const nowIso = () => new Date().toISOString();
const note = (outcome: AuditEntry['outcome'], details: Record<string, unknown>): AuditEntry => {
  const t = nowIso();
  return {
    start: t,
    end: t,
    tool: AUDIT_NOTE_TOOL,
    args: {},
    dryRun: false,
    outcome,
    resultBytes: 0,
    details,
  };
};

/**
 * Appends records to a JSONL file. Several processes may share the file (every stdio server a
 * desktop client starts appends to the default one); each writes its own chain, and each append
 * holds a lock file while it checks the tail, rotates when due, appends and moves the head
 * checkpoint. The file work is synchronous: a handful of syscalls instead of thread-pool round trips.
 *
 * - A torn last line (a crash or a full disk mid-write) is cut off at the next append, kept in
 *   `<file>.torn-<time>`, and a `(audit)` record with outcome `recovered` says so.
 * - At `rotateBytes` the file is renamed `<file>.<time>` and the new file starts with a `(audit)`
 *   `rotated` record holding the old file's last hash (`details.previousLast`).
 */
export class JsonlAuditSink implements AuditSink {
  readonly name = 'jsonl';
  readonly path: string;
  readonly checkpointPath: string | undefined;
  private readonly options: JsonlAuditSinkOptions;
  private dirReady = false;
  /** The file as this process last left it: when its size is unchanged, its tail is known good. */
  private known?: { ino: number; size: number; hash: string };
  private checkpointError?: string;
  private checkpointFd?: number;
  private key?: Uint8Array;

  constructor(pathOrOptions: string | JsonlAuditSinkOptions = {}) {
    this.options = typeof pathOrOptions === 'string' ? { path: pathOrOptions } : pathOrOptions;
    const env = this.options.env ?? process.env;
    this.path = this.options.path ?? defaultAuditPath(env);
    this.checkpointPath =
      this.options.checkpoint === false
        ? undefined
        : (this.options.checkpoint ?? defaultCheckpointPath(this.path, env));
  }

  hmacKey(): Uint8Array {
    this.key ??= loadAuditKey({
      key: this.options.key,
      keyFile: this.options.keyFile,
      env: this.options.env,
    });
    return this.key;
  }

  private ensureDir(): void {
    if (this.dirReady) return;
    mkdirSync(dirname(this.path), { recursive: true });
    if (this.checkpointPath) mkdirSync(dirname(this.checkpointPath), { recursive: true, mode: 0o700 });
    this.dirReady = true;
  }

  /** Writable, the key readable, the checkpoint writable (fails writes closed otherwise). */
  async check(): Promise<void> {
    this.ensureDir();
    closeSync(openSync(this.path, 'a', 0o600));
    this.hmacKey();
    if (this.checkpointError) throw new Error(`audit checkpoint not written: ${this.checkpointError}`);
  }

  async append(record: AuditRecord): Promise<void> {
    await this.appendChained(() => [record]);
  }

  async appendChained(build: (notes: AuditEntry[]) => AuditRecord[]): Promise<AuditRecord[]> {
    this.ensureDir();
    const release = await acquireLock(`${this.path}.lock`, this.options.lock);
    try {
      const notes: AuditEntry[] = [];
      const st = statSync(this.path, { throwIfNoEntry: false });
      let size = st?.size ?? 0;
      // unchanged since this process appended (same file, same size): its tail is known good
      const known = st && this.known?.ino === st.ino && this.known.size === size ? this.known : undefined;
      if (size > 0 && !known) {
        const torn = this.recoverTail(size);
        if (torn) {
          notes.push(note('recovered', torn.details));
          size = torn.size;
        }
      }
      const rotateBytes = this.options.rotateBytes ?? 64 * 1024 * 1024;
      if (rotateBytes > 0 && size >= rotateBytes) {
        const previousLast = known ? known.hash : lastRecordHash(this.path);
        const rotated = rotatedName(this.path);
        renameSync(this.path, rotated);
        notes.push(note('rotated', { previous: basename(rotated), previousLast }));
        size = 0;
      }
      const records = build(notes);
      const data = records.map((r) => `${JSON.stringify(r)}\n`).join('');
      try {
        appendFileSync(this.path, data, { mode: 0o600 });
      } catch (err) {
        // a short write (full disk) leaves no torn line behind: cut back to where this append began
        try {
          truncateSync(this.path, size);
        } catch {
          // the next append recovers the tail
        }
        throw err;
      }
      const last = records[records.length - 1]!;
      this.known = { ino: statSync(this.path).ino, size: size + Buffer.byteLength(data), hash: last.hash };
      this.moveHead(records);
      return records;
    } finally {
      release();
    }
  }

  /**
   * Move the chains' heads in the checkpoint (under the log's lock). Rewritten in place through a
   * kept descriptor (a temp file and a rename per append cost ~0.25 ms); padded so it never
   * shrinks. An unreadable checkpoint (a crash mid-write) is started afresh. The records are in the
   * log already: a checkpoint that cannot be written is reported by check() (writes fail closed),
   * not thrown here.
   */
  private moveHead(records: AuditRecord[]): void {
    if (!this.checkpointPath) return;
    try {
      if (this.checkpointFd === undefined)
        this.checkpointFd = openSync(this.checkpointPath, constants.O_RDWR | constants.O_CREAT, 0o600);
      const fd = this.checkpointFd;
      const size = fstatSync(fd).size;
      let cp: AuditCheckpoint | undefined;
      if (size > 0) {
        const buf = Buffer.alloc(size);
        readSync(fd, buf, 0, size, 0);
        try {
          cp = JSON.parse(buf.toString('utf8')) as AuditCheckpoint;
        } catch {
          cp = undefined;
        }
      }
      if (!cp?.chains) cp = { v: 1, file: this.path, chains: {} };
      const at = nowIso();
      for (const r of records) {
        if (r.chain === undefined || r.seq === undefined) continue;
        cp.chains[r.chain] = { seq: r.seq, hash: r.hash, at };
        cp.last = { chain: r.chain, seq: r.seq, hash: r.hash };
      }
      pruneCheckpoint(cp);
      const out = Buffer.from(JSON.stringify(cp).padEnd(size, ' '));
      writeSync(fd, out, 0, out.length, 0);
      this.checkpointError = undefined;
    } catch (err) {
      this.checkpointError = (err as Error).message;
    }
  }

  async close(): Promise<void> {
    if (this.checkpointFd !== undefined) closeSync(this.checkpointFd);
    this.checkpointFd = undefined;
  }

  /**
   * If the file does not end with a newline (a crash mid-write): cut it after its last full line
   * and keep the torn bytes in `<file>.torn-<time>`; when even that cannot be written (a full
   * disk), the recovered record holds their size, hash and first bytes instead.
   */
  private recoverTail(size: number): { size: number; details: Record<string, unknown> } | undefined {
    const fd = openSync(this.path, 'r+');
    let torn: Buffer;
    let cut: number;
    try {
      const one = Buffer.alloc(1);
      readSync(fd, one, 0, 1, size - 1);
      if (one[0] === 0x0a) return undefined;
      cut = lastNewline(fd, size) + 1;
      torn = Buffer.alloc(Math.min(TORN_KEEP, size - cut));
      readSync(fd, torn, 0, torn.length, cut);
      ftruncateSync(fd, cut);
    } finally {
      closeSync(fd);
    }
    const details: Record<string, unknown> = {
      tornBytes: size - cut,
      reason: 'the last line was incomplete (a crash or a full disk during a write)',
    };
    const kept = uniqueName(`${this.path}.torn-${stamp()}`);
    try {
      const out = openSync(kept, 'wx', 0o600);
      try {
        writeSync(out, torn);
      } finally {
        closeSync(out);
      }
      details.keptIn = basename(kept);
      if (size - cut > torn.length) details.keptBytes = torn.length;
    } catch (err) {
      rmSync(kept, { force: true });
      details.keptIn = null;
      details.keepError = (err as Error).message;
      details.tornSha256 = createHash('sha256').update(torn).digest('hex');
      details.tornPrefix = torn.subarray(0, 512).toString('utf8');
    }
    return { size: cut, details };
  }
}

/** Torn bytes kept aside at most (a torn record is at most a few KiB; anything longer is garbage). */
const TORN_KEEP = 1 << 20;

/** Offset of the last newline before `size`, or -1. Reads backwards in chunks. */
function lastNewline(fd: number, size: number): number {
  const buf = Buffer.alloc(64 * 1024);
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - buf.length);
    readSync(fd, buf, 0, end - start, start);
    const i = buf.subarray(0, end - start).lastIndexOf(0x0a);
    if (i >= 0) return start + i;
    end = start;
  }
  return -1;
}

/** Hash of the last complete record of a file (read backwards; undefined when it has none). */
export function lastRecordHash(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const { size } = fstatSync(fd);
    let end = size;
    // skip the final newline, then find the one before the last line
    const one = Buffer.alloc(1);
    while (end > 0) {
      readSync(fd, one, 0, 1, end - 1);
      if (one[0] !== 0x0a) break;
      end--;
    }
    if (end === 0) return undefined;
    const start = lastNewline(fd, end) + 1;
    const buf = Buffer.alloc(end - start);
    readSync(fd, buf, 0, buf.length, start);
    return (JSON.parse(buf.toString('utf8')) as AuditRecord).hash;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:.]/g, '');
}

function rotatedName(path: string): string {
  return uniqueName(`${path}.${stamp()}`);
}

function uniqueName(base: string): string {
  for (let i = 0; ; i++) {
    const name = i === 0 ? base : `${base}-${i}`;
    if (!statSync(name, { throwIfNoEntry: false })) return name;
  }
}
