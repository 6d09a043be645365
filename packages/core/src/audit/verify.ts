import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ROTATED_SUFFIX } from './jsonl-sink.js';
import { type AuditCheckpoint, defaultCheckpointPath, loadAuditKey, readCheckpoint } from './key.js';
import { AUDIT_NOTE_TOOL, type AuditRecord, GENESIS, hashRecord, hmacRecord } from './record.js';
import type { AuditSink } from './sink.js';

export interface ChainReport {
  chain: string;
  records: number;
  firstSeq: number;
  lastSeq: number;
}

export interface VerifyResult {
  ok: boolean;
  records: number;
  /** Files read, oldest first (rotated files, then the current one). */
  files?: string[];
  /** Per writer chain. */
  chains?: ChainReport[];
  /** Not breaks of the chain, but worth a look: intents with no outcome, recovered tails, lost records, no checkpoint. */
  warnings?: string[];
  /** The first break: file, 1-based line, and what is wrong. */
  error?: { file?: string; line: number; id?: string; chain?: string; problem: string };
}

export interface VerifyOptions {
  /** Chain key; default `INFRA_MCP_AUDIT_KEY`, else the key file (never created by verify). */
  key?: string | Uint8Array;
  keyFile?: string;
  /** Head checkpoint (default: the one the JSONL sink keeps for this path); `false`: do not check the head. */
  checkpoint?: string | false;
  /** Read rotated files (`<file>.<time>`) before the file (default true). */
  followRotation?: boolean;
  env?: Record<string, string | undefined>;
}

interface ChainState {
  seq: number;
  hash: string;
  records: number;
  firstSeq: number;
}

const MAX_PENDING_INTENTS = 10_000;
const MAX_WARNINGS = 50;

/** Checks records one at a time; memory grows with the number of chains, not records. */
export class AuditVerifier {
  records = 0;
  private legacy?: string;
  private keyed = false;
  private readonly chains = new Map<string, ChainState>();
  private readonly intents = new Map<string, string>();
  private readonly warnings: string[] = [];
  private warningsDropped = 0;
  error?: VerifyResult['error'];
  /** The last record of everything read so far, and of the current file. */
  last?: AuditRecord;
  private fileLast?: string;
  private fileIndex = -1;
  private fileFirst = true;
  private file?: string;

  constructor(private readonly key: Uint8Array | undefined) {}

  warn(text: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(text);
    else this.warningsDropped++;
  }

  private fail(line: number, problem: string, r?: Partial<AuditRecord>): false {
    this.error = { file: this.file, line, id: r?.id, chain: r?.chain, problem };
    return false;
  }

  startFile(file: string): void {
    this.fileIndex++;
    this.file = file;
    this.fileFirst = true;
  }

  /** Check one record; false (and `error` set) at the first break. */
  push(r: AuditRecord, line: number): boolean {
    this.records++;
    if (!r || typeof r !== 'object' || typeof r.hash !== 'string')
      return this.fail(line, 'line is not an audit record');
    const { hash, ...rest } = r;
    if (r.v === undefined) {
      // version 1: plain SHA-256, one chain per file; only before any keyed record
      if (this.keyed) return this.fail(line, 'unkeyed (version 1) record among keyed records (inserted?)', r);
      if (hashRecord(rest) !== hash)
        return this.fail(line, 'record content does not match its hash (changed)', r);
      if (this.legacy === undefined && r.prev !== GENESIS)
        return this.fail(line, 'first record does not start the chain (records before it were removed)', r);
      if (this.legacy !== undefined && r.prev !== this.legacy)
        return this.fail(
          line,
          'record does not follow the previous one (a record was removed, inserted or reordered)',
          r,
        );
      this.legacy = hash;
    } else if (r.v === 2) {
      if (!this.key) return this.fail(line, 'keyed record but no audit key to check it with', r);
      if (typeof r.chain !== 'string' || !Number.isInteger(r.seq))
        return this.fail(line, 'record has no chain id or sequence number', r);
      if (hmacRecord(this.key, rest) !== hash)
        return this.fail(
          line,
          'record content does not match its hash (changed, or written with another key)',
          r,
        );
      const state = this.chains.get(r.chain);
      if (!state) {
        if (r.seq !== 1 || r.prev !== GENESIS)
          return this.fail(
            line,
            `chain ${r.chain} starts at seq ${r.seq}: its first records were removed`,
            r,
          );
        this.chains.set(r.chain, { seq: 1, hash, records: 1, firstSeq: 1 });
      } else {
        if (r.seq !== state.seq + 1 || r.prev !== state.hash)
          return this.fail(
            line,
            `record does not follow the previous one of chain ${r.chain} (seq ${state.seq} then ${r.seq}: a record was removed, inserted or reordered)`,
            r,
          );
        state.seq = r.seq!;
        state.hash = hash;
        state.records++;
      }
      this.keyed = true;
    } else return this.fail(line, `unknown record version ${String(r.v)}`, r);

    if (this.fileFirst && this.fileIndex > 0) {
      const d = r.details as { previousLast?: string } | undefined;
      if (r.tool !== AUDIT_NOTE_TOOL || r.outcome !== 'rotated' || d?.previousLast !== this.fileLast)
        return this.fail(
          line,
          'file does not continue the previous file (a rotated file was removed, replaced or reordered)',
          r,
        );
    }
    this.fileFirst = false;
    this.fileLast = hash;
    this.last = r;

    const where = `${this.file ? `${basename(this.file)}:` : 'line '}${line}`;
    if (r.tool === AUDIT_NOTE_TOOL && r.outcome === 'recovered')
      this.warn(`${where}: a torn last line was recovered (${JSON.stringify(r.details)})`);
    if (r.tool === AUDIT_NOTE_TOOL && r.outcome === 'lost')
      this.warn(`${where}: the writer of chain ${r.chain} lost records (${JSON.stringify(r.details)})`);
    if (r.phase === 'intent') {
      if (this.intents.size < MAX_PENDING_INTENTS) this.intents.set(r.id, `${where} (${r.tool})`);
    } else if (r.phase === 'outcome' && r.intent) {
      if (!this.intents.delete(r.intent)) this.warn(`${where}: outcome of an intent not seen (${r.intent})`);
    }
    return true;
  }

  /** Compare with the head checkpoint; collect the report. */
  finish(checkpoint: AuditCheckpoint | undefined | false, checkpointPath?: string): VerifyResult {
    if (!this.error && checkpoint) {
      const last = this.last;
      if (checkpoint.last && (!last || last.hash !== checkpoint.last.hash)) {
        const has = this.chains.get(checkpoint.last.chain);
        this.error = {
          file: this.file,
          line: 0,
          chain: checkpoint.last.chain,
          problem: `the newest records were removed or replaced: the checkpoint's last record is chain ${checkpoint.last.chain} seq ${checkpoint.last.seq}${has ? `, the log has that chain up to seq ${has.seq}` : ', a chain the log does not have'}${last ? '' : ' (the log is empty)'}`,
        };
      }
      for (const [chain, head] of Object.entries(checkpoint.chains)) {
        if (this.error) break;
        const state = this.chains.get(chain);
        if (!state || state.seq < head.seq)
          this.error = {
            file: this.file,
            line: 0,
            chain,
            problem: `chain ${chain} ends at seq ${state?.seq ?? 0} but the checkpoint says ${head.seq}: its last records were removed`,
          };
        else if (state.seq === head.seq && state.hash !== head.hash)
          this.error = {
            file: this.file,
            line: 0,
            chain,
            problem: `chain ${chain} seq ${head.seq} was replaced`,
          };
        else if (state.seq > head.seq)
          this.warn(
            `chain ${chain} has records after its checkpoint (seq ${head.seq} -> ${state.seq}): the checkpoint could not be written`,
          );
      }
    } else if (checkpoint === undefined && this.keyed) {
      this.warn(
        `no head checkpoint${checkpointPath ? ` (${checkpointPath})` : ''}: removal of the newest records cannot be detected`,
      );
    }
    for (const where of this.intents.values())
      this.warn(`${where}: intent with no outcome (the process stopped between the two: a crash?)`);
    if (this.legacy && this.keyed) this.warn('the log starts with unkeyed (version 1) records');
    if (this.warningsDropped) this.warnings.push(`... and ${this.warningsDropped} more warnings`);
    const result: VerifyResult = {
      ok: !this.error,
      records: this.records,
      chains: [...this.chains].map(([chain, s]) => ({
        chain,
        records: s.records,
        firstSeq: s.firstSeq,
        lastSeq: s.seq,
      })),
    };
    if (this.warnings.length) result.warnings = this.warnings;
    if (this.error) result.error = this.error;
    return result;
  }
}

/** Check records held in memory (one chain or several). */
export function verifyRecords(
  records: readonly AuditRecord[],
  options: { key?: string | Uint8Array } = {},
): VerifyResult {
  const v = new AuditVerifier(options.key === undefined ? undefined : loadAuditKey({ key: options.key }));
  for (let i = 0; i < records.length; i++) if (!v.push(records[i]!, i + 1)) break;
  return v.finish(false);
}

/**
 * Verify what a sink that can read its records back holds (a table shared by replicas): every
 * chain's keyed hashes, sequence and links, in constant memory per chain. No head checkpoint is kept
 * apart from a shared sink, so removal of a chain's newest records cannot be seen; the result warns.
 */
export async function verifyAuditSink(
  sink: AuditSink,
  options: Pick<VerifyOptions, 'key' | 'keyFile' | 'env'> = {},
): Promise<VerifyResult> {
  if (!sink.readBack)
    return {
      ok: false,
      records: 0,
      error: { file: sink.name, line: 0, problem: `audit sink ${sink.name} cannot read its records back` },
    };
  let key: Uint8Array | undefined;
  try {
    key = loadAuditKey(
      { key: options.key, keyFile: options.keyFile, env: options.env ?? process.env },
      false,
    );
  } catch (err) {
    return { ok: false, records: 0, error: { file: sink.name, line: 0, problem: (err as Error).message } };
  }
  const v = new AuditVerifier(key);
  v.startFile(sink.name);
  let n = 0;
  try {
    for await (const record of sink.readBack()) if (!v.push(record, ++n)) break;
  } catch (err) {
    return {
      ok: false,
      records: n,
      error: { file: sink.name, line: n, problem: `reading failed: ${(err as Error).message}` },
    };
  }
  return v.finish(undefined, `${sink.name} keeps none`);
}

/** Lines of a file, streamed; a line over `maxLine` bytes comes back as undefined text (never buffered whole). */
export async function* readLines(
  path: string,
  maxLine = 1 << 20,
): AsyncGenerator<{ line: number; text?: string; unterminated?: boolean }> {
  let parts: Buffer[] = [];
  let partLen = 0;
  let overlong = false;
  let n = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) {
        const rest = chunk.subarray(start);
        if (!overlong && partLen + rest.length > maxLine) {
          overlong = true;
          parts = [];
          partLen = 0;
        } else if (!overlong && rest.length) {
          parts.push(Buffer.from(rest));
          partLen += rest.length;
        }
        break;
      }
      const piece = chunk.subarray(start, nl);
      n++;
      if (overlong || partLen + piece.length > maxLine) yield { line: n };
      else
        yield { line: n, text: (parts.length ? Buffer.concat([...parts, piece]) : piece).toString('utf8') };
      parts = [];
      partLen = 0;
      overlong = false;
      start = nl + 1;
    }
  }
  if (overlong) yield { line: n + 1, unterminated: true };
  else if (partLen) yield { line: n + 1, text: Buffer.concat(parts).toString('utf8'), unterminated: true };
}

/** The files of a log, oldest first: `<file>.<time>` rotated files, then the file itself. */
export async function auditFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const base = `${basename(path)}.`;
  const rotated = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.startsWith(base) && ROTATED_SUFFIX.test(n.slice(base.length)))
    .sort()
    .map((n) => join(dir, n));
  return [...rotated, path];
}

/**
 * Verify a JSONL audit log in constant memory: streams the rotated files and the file line by
 * line, checks every chain (keyed hash, sequence, links), the links between files, and the head
 * against the checkpoint kept apart from the log. A missing file is an error.
 */
export async function verifyAuditFile(path: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const env = options.env ?? process.env;
  if (!(await stat(path).catch(() => undefined)))
    return { ok: false, records: 0, error: { file: path, line: 0, problem: 'audit file not found' } };
  let key: Uint8Array | undefined;
  let keyProblem: string | undefined;
  try {
    key = loadAuditKey({ key: options.key, keyFile: options.keyFile, env }, false);
  } catch (err) {
    keyProblem = (err as Error).message;
  }
  const cpPath =
    options.checkpoint === false ? undefined : (options.checkpoint ?? defaultCheckpointPath(path, env));
  let checkpoint: AuditCheckpoint | undefined | false = false;
  if (cpPath) {
    try {
      checkpoint = readCheckpoint(cpPath);
    } catch (err) {
      return { ok: false, records: 0, error: { file: cpPath, line: 0, problem: (err as Error).message } };
    }
  }
  const files = options.followRotation === false ? [path] : await auditFiles(path);
  const v = new AuditVerifier(key);
  outer: for (const file of files) {
    v.startFile(file);
    for await (const { line, text, unterminated } of readLines(file)) {
      if (text !== undefined && text.trim() === '') continue;
      let record: AuditRecord | undefined;
      try {
        record = text === undefined ? undefined : (JSON.parse(text) as AuditRecord);
      } catch {
        record = undefined;
      }
      if (unterminated && file === files[files.length - 1] && !record) {
        v.warn(
          `${basename(file)}:${line}: incomplete last line (a write was cut short by a crash or a full disk); the next append keeps it aside`,
        );
        break outer;
      }
      if (!record) {
        v.error = {
          file,
          line,
          problem: text === undefined ? 'line is too long to be an audit record' : 'line is not valid JSON',
        };
        break outer;
      }
      if (!v.push(record, line)) {
        if (keyProblem && record.v === 2) v.error!.problem = keyProblem;
        break outer;
      }
    }
  }
  const result = v.finish(checkpoint, cpPath);
  result.files = files;
  return result;
}
