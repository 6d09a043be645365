import type { AuditEntry, AuditRecord } from './record.js';

/**
 * Where audit records go. Public: other packages implement it (a DynamoDB table for a fleet, a
 * syslog forwarder) and the app's config names them (`audit.sinks: [{ module, export, options }]`).
 *
 * The first sink of an AuditLog is its primary: a record counts as stored when the primary stored
 * it. Records arrive chained (`chain`, `seq`, `prev`, `hash`): a sink stores them as they are and
 * never re-chains. A sink shared by several writers needs no coordination for the chain: each
 * writer (process, replica) has its own chain id.
 */
export interface AuditSink {
  readonly name: string;
  /** Store one record. Reject when it was not stored (the AuditLog counts and reports it). */
  append(record: AuditRecord): Promise<void>;
  /**
   * Optional: store records built while the sink holds its own lock. The sink passes the notes it
   * needs written first (a torn tail recovered, a file rotated); `build` chains them and the record
   * and returns them all, in order; the sink stores them and returns them.
   */
  appendChained?(build: (notes: AuditEntry[]) => AuditRecord[]): Promise<AuditRecord[]>;
  /** Throw when records cannot be written right now (checked before a real write runs: fail closed). */
  check?(): Promise<void>;
  /**
   * Optional: every stored record, each chain in sequence order (chains may follow one another or
   * interleave), so `verifyAuditSink` (and `infra-mcp audit verify --sink`) can check a shared sink.
   */
  readBack?(): AsyncIterable<AuditRecord>;
  /** The chain key, when the sink holds it (the JSONL sink's key file). */
  hmacKey?(): Uint8Array;
  close?(): Promise<void>;
}
