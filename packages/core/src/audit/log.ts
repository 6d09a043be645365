import { randomBytes, randomUUID } from 'node:crypto';
import { loadAuditKey } from './key.js';
import {
  AUDIT_NOTE_TOOL,
  AUDIT_RECORD_VERSION,
  type AuditEntry,
  type AuditRecord,
  boundEntry,
  boundText,
  GENESIS,
  hmacRecord,
} from './record.js';
import type { AuditSink } from './sink.js';

export interface AuditLogOptions {
  /** Chain key; default: the first sink's `hmacKey()`, else `INFRA_MCP_AUDIT_KEY`, else the key file. */
  key?: string | Uint8Array;
  /** This writer's chain id (default: random, one per AuditLog, i.e. per process). */
  chainId?: string;
  /** Failure reports (`reportFailure`) at most this often (default 10 s). */
  reportIntervalMs?: number;
}

export interface AuditStatus {
  chain: string;
  /** Sequence number of this chain's last stored record. */
  seq: number;
  /** Records a sink could not store since start. */
  lost: number;
  lastError?: string;
}

/**
 * Chains records and writes them to every sink, one at a time, in order. A record a sink could
 * not store is counted (`lost`, `status()`, `infra_mcp_audit_lost_records_total`) and, once the
 * primary sink works again, the chain gets a `(audit)` record with outcome `lost` saying how many.
 */
export class AuditLog {
  readonly chainId: string;
  private seq = 0;
  private prev = GENESIS;
  private key?: Uint8Array;
  private queue: Promise<unknown> = Promise.resolve();
  /** Records not stored by some sink since start. */
  lost = 0;
  private lostSince = 0;
  private lostSinks = new Set<string>();
  private lastError?: string;
  private lastReport = 0;
  private suppressed = 0;

  constructor(
    readonly sinks: AuditSink[],
    private readonly options: AuditLogOptions = {},
  ) {
    this.chainId = options.chainId ?? randomBytes(6).toString('hex');
  }

  status(): AuditStatus {
    return { chain: this.chainId, seq: this.seq, lost: this.lost, lastError: this.lastError };
  }

  async check(): Promise<void> {
    for (const sink of this.sinks) await sink.check?.();
  }

  private chainKey(): Uint8Array {
    if (this.key) return this.key;
    const fromSink = this.sinks.find((s) => s.hmacKey);
    this.key =
      this.options.key !== undefined
        ? loadAuditKey({ key: this.options.key })
        : fromSink
          ? fromSink.hmacKey!()
          : loadAuditKey();
    return this.key;
  }

  /** Chain entries after the current head without moving it (moved by commit once stored). */
  private chain(entries: AuditEntry[]): AuditRecord[] {
    const key = this.chainKey();
    let { seq, prev } = this;
    return entries.map((entry) => {
      const base = {
        v: AUDIT_RECORD_VERSION,
        id: randomUUID(),
        chain: this.chainId,
        seq: ++seq,
        ...entry,
        prev,
      };
      prev = hmacRecord(key, base);
      return { ...base, hash: prev };
    });
  }

  private commit(record: AuditRecord): void {
    this.seq = record.seq!;
    this.prev = record.hash;
    if (record.tool === AUDIT_NOTE_TOOL && record.outcome === 'lost') {
      this.lostSince = 0;
      this.lostSinks.clear();
    }
  }

  private lostNote(): AuditEntry[] {
    if (this.lostSince === 0) return [];
    const t = new Date().toISOString();
    return [
      {
        start: t,
        end: t,
        tool: AUDIT_NOTE_TOOL,
        args: {},
        dryRun: false,
        outcome: 'lost',
        resultBytes: 0,
        details: { records: this.lostSince, sinks: [...this.lostSinks], lastError: this.lastError },
      },
    ];
  }

  /** Append one record. Rejects when a sink fails (the caller reports it; the loss is counted). */
  record(entry: AuditEntry): Promise<AuditRecord> {
    const run = this.queue.then(async () => {
      const bounded = boundEntry(entry);
      const [primary, ...others] = this.sinks;
      const failures: string[] = [];
      const failed = new Set<string>();
      const fail = (sink: AuditSink, err: unknown) => {
        failures.push(`${sink.name}: ${(err as Error).message}`);
        failed.add(sink.name);
      };
      let records: AuditRecord[];
      try {
        records = [];
        if (primary?.appendChained) {
          try {
            records = await primary.appendChained((notes) =>
              this.chain([...notes, ...this.lostNote(), bounded]),
            );
            for (const r of records) this.commit(r);
          } catch (err) {
            fail(primary, err);
            records = this.chain([bounded]);
          }
        } else {
          records = this.chain([...this.lostNote(), bounded]);
          if (primary) {
            try {
              for (const r of records) {
                await primary.append(r);
                this.commit(r);
              }
            } catch (err) {
              fail(primary, err);
            }
          }
        }
      } catch (err) {
        // no key: nothing can be chained
        this.countLost(
          this.sinks.map((s) => s.name),
          (err as Error).message,
        );
        throw new Error(`audit failed: ${(err as Error).message}`);
      }
      for (const sink of others) {
        try {
          for (const r of records) await sink.append(r);
        } catch (err) {
          fail(sink, err);
        }
      }
      if (failures.length) {
        this.countLost([...failed], failures.join('; '));
        throw new Error(`audit sink failed: ${failures.join('; ')}`);
      }
      return records[records.length - 1]!;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private countLost(sinks: string[], error: string): void {
    this.lost++;
    this.lostSince++;
    for (const s of sinks) this.lostSinks.add(s);
    this.lastError = boundText(error, 500);
  }

  /**
   * The message to log for an audit failure, at most once per interval (undefined otherwise):
   * a full disk under load must not turn into one log line per call.
   */
  reportFailure(err: unknown): string | undefined {
    const now = Date.now();
    if (now - this.lastReport < (this.options.reportIntervalMs ?? 10_000)) {
      this.suppressed++;
      return undefined;
    }
    const more = this.suppressed ? ` (${this.suppressed} more audit failures since the last report)` : '';
    this.lastReport = now;
    this.suppressed = 0;
    return `${(err as Error).message}${more}; ${this.lost} records lost since start`;
  }

  async close(): Promise<void> {
    await this.queue;
    for (const sink of this.sinks) await sink.close?.();
  }
}

export class StderrAuditSink implements AuditSink {
  readonly name = 'stderr';
  async append(record: AuditRecord): Promise<void> {
    process.stderr.write(`audit ${JSON.stringify(record)}\n`);
  }
}

/** Keeps records in memory (tests, embedding), chained with a random per-sink key unless given one. */
export class MemoryAuditSink implements AuditSink {
  readonly name = 'memory';
  readonly records: AuditRecord[] = [];
  private readonly key: Uint8Array;
  constructor(key?: string | Uint8Array) {
    this.key = key === undefined ? randomBytes(32) : loadAuditKey({ key });
  }
  hmacKey(): Uint8Array {
    return this.key;
  }
  async append(record: AuditRecord) {
    this.records.push(record);
  }
}
