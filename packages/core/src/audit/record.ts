import { createHmac } from 'node:crypto';
import { canonicalJson, sha256 } from '../hash.js';
import type { Effect } from '../plugin.js';

/** Outcomes of a tool call, plus the log's own notes (`tool: '(audit)'`). */
/**
 * `intent`: an approved change is about to run (its outcome record follows; a crash in between shows
 * in `audit verify`); `running`: the change was still running when the call's time ran out.
 */
export type Outcome = 'ok' | 'error' | 'denied' | 'dry_run' | 'intent' | 'running';
export type AuditNoteOutcome = 'recovered' | 'rotated' | 'lost';

/** Record format version: 2 = keyed (HMAC-SHA256) hash, per-writer chain id and sequence number. */
export const AUDIT_RECORD_VERSION = 2;

/** The tool name of records the log writes about itself (torn tail recovered, file rotated, records lost). */
export const AUDIT_NOTE_TOOL = '(audit)';

/**
 * One record per tools/call. Each writer (process, replica) appends to its own chain: `chain` is
 * the writer's id, `seq` counts from 1, `prev` is the hash of the chain's previous record (GENESIS
 * for the first) and `hash` is HMAC-SHA256 (key held apart from the log) of the canonical record.
 */
export interface AuditRecord {
  /** Record format version (absent: version 1, plain SHA-256, one chain per file). */
  v?: number;
  id: string;
  chain?: string;
  seq?: number;
  start: string;
  end: string;
  caller?: string;
  tool: string;
  instance?: string;
  /** Arguments, redacted; over 8 KiB as `{ sha256, bytes, prefix }`. */
  args: unknown;
  effect?: Effect;
  dryRun: boolean;
  outcome: Outcome | AuditNoteOutcome;
  errorCode?: string;
  resultBytes: number;
  /** Writes: the change hash the approval was bound to. */
  changeHash?: string;
  /** Writes: one line saying what the change does (or did). */
  summary?: string;
  /** Structured details (a ToolError's details, what a note is about); over 4 KiB as `{ sha256, bytes, prefix }`. */
  details?: unknown;
  /** Writes: `intent` is written before the change runs, `outcome` after; an intent with no outcome is a crash in between. */
  phase?: 'intent' | 'outcome';
  /** On an `outcome` record: the id of its `intent` record. */
  intent?: string;
  prev: string;
  hash: string;
}

export type AuditEntry = Omit<AuditRecord, 'v' | 'id' | 'chain' | 'seq' | 'prev' | 'hash'>;

export const GENESIS = '0'.repeat(64);

/** Bounds of every record field (characters; `args`/`details` in UTF-8 bytes of their JSON). */
export const AUDIT_LIMITS = {
  tool: 64,
  caller: 256,
  instance: 128,
  errorCode: 64,
  changeHash: 128,
  summary: 1024,
  time: 40,
  args: 8192,
  details: 4096,
} as const;

/** Tool names a registry can hold: [a-z0-9_], at most 64 characters. Anything else is refused before lookup. */
const PLAUSIBLE_TOOL = /^[a-z0-9_]{1,64}$/;
export function isPlausibleToolName(name: unknown): name is string {
  return typeof name === 'string' && PLAUSIBLE_TOOL.test(name);
}

/** `text` if within `max` characters, else a prefix plus `…sha256:<16 hex>` of the whole (still ≤ max). */
export function boundText(text: string, max: number): string {
  if (text.length <= max) return text;
  const tag = `…sha256:${sha256(text).slice(0, 16)}`;
  return `${text.slice(0, Math.max(0, max - tag.length))}${tag}`;
}

/** A tool name as it may appear in a record or an error message: bounded, control characters escaped. */
export function boundToolName(name: unknown): string {
  const text = typeof name === 'string' ? name : String(name);
  const bounded = boundText(text, AUDIT_LIMITS.tool);
  let out = '';
  for (const ch of bounded) {
    const code = ch.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? '?' : ch;
  }
  return out;
}

/** JSON values over `max` bytes become `{ sha256, bytes, prefix }` (prefix ≤ 1 KiB of the JSON). */
export function boundJson(value: unknown, max: number): unknown {
  if (value === undefined) return undefined;
  let json: string;
  try {
    json = JSON.stringify(value) ?? 'null';
  } catch (err) {
    return { unserializable: boundText((err as Error).message, 200) };
  }
  const bytes = Buffer.byteLength(json);
  if (bytes <= max) return value;
  return { sha256: sha256(json), bytes, prefix: Buffer.from(json).subarray(0, 1024).toString('utf8') };
}

const opt = (text: string | undefined, max: number) =>
  text === undefined ? undefined : boundText(String(text), max);

/** Every field of an entry within AUDIT_LIMITS (whoever built it). */
export function boundEntry(entry: AuditEntry): AuditEntry {
  const out: AuditEntry = {
    ...entry,
    start: boundText(String(entry.start), AUDIT_LIMITS.time),
    end: boundText(String(entry.end), AUDIT_LIMITS.time),
    tool: boundToolName(entry.tool),
    args: boundJson(entry.args, AUDIT_LIMITS.args) ?? null,
    resultBytes: Number.isFinite(entry.resultBytes) ? entry.resultBytes : 0,
  };
  const set = <K extends keyof AuditEntry>(k: K, v: AuditEntry[K] | undefined) => {
    if (v === undefined) delete out[k];
    else out[k] = v;
  };
  set('caller', opt(entry.caller, AUDIT_LIMITS.caller));
  set('instance', opt(entry.instance, AUDIT_LIMITS.instance));
  set('errorCode', opt(entry.errorCode, AUDIT_LIMITS.errorCode));
  set('changeHash', opt(entry.changeHash, AUDIT_LIMITS.changeHash));
  set('summary', opt(entry.summary, AUDIT_LIMITS.summary));
  set('intent', opt(entry.intent, 64));
  set('details', boundJson(entry.details, AUDIT_LIMITS.details));
  return out;
}

/** Version 1 hash: plain SHA-256 of the canonical record (anyone can recompute it; kept to read old logs). */
export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return sha256(canonicalJson(record));
}

/** Version 2 hash: HMAC-SHA256 with the audit key. */
export function hmacRecord(key: Uint8Array, record: Omit<AuditRecord, 'hash'>): string {
  return createHmac('sha256', key).update(canonicalJson(record)).digest('hex');
}
