import { humanDuration, ToolError } from '@infra-mcp/core';

/** Most points per series a range query asks for when the caller gives no step. */
export const TARGET_POINTS = 250;
/** Prometheus refuses more than 11,000 points per series. */
export const MAX_POINTS = 11_000;

const TIME_HINT =
  'use RFC 3339 (2024-05-01T12:00:00Z), unix seconds (1714564800), or relative: now, now-1h, -30m';

/** 2000-01-01T00:00:00Z: unix seconds before it are almost always a mistake (a year, a duration). */
const MIN_UNIX = 946_684_800;
/** Latest time accepted: 9999-12-31T23:59:59Z (JavaScript dates and RFC 3339 end there). */
const MAX_UNIX = 253_402_300_799;
/** Unix milliseconds of the years 2000..9999: what a "looks like milliseconds" hint is right for. */
const MAX_UNIX_MS = MAX_UNIX * 1000;

const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+$/;

/** Prometheus-style duration ("1h30m", "90s", "2d") or plain seconds ("30", 30) -> seconds. undefined when unreadable. */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? input : undefined;
  const s = input.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  if (!DURATION_RE.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * UNITS[m[2]!]!;
  return total;
}

/** Seconds -> the shortest Prometheus duration string ("15s", "1m30s", "2h"). */
export function formatDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (!Number.isInteger(seconds)) return `${Number(seconds.toFixed(3))}s`;
  return humanDuration(seconds);
}

const RFC3339_RE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A time argument -> unix seconds. Accepts RFC 3339 (a date alone is midnight UTC), unix seconds
 * (number or numeric string), `now`, `now-1h`, `now+5m` and `-30m` (relative to now).
 */
function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

export function parseTime(input: string | number, now: number, name = 'time'): number {
  const bad = (why: string): never => {
    throw new ToolError('bad_time', `${name} "${clip(String(input))}" ${why}`, TIME_HINT);
  };
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) bad('is not a valid unix time');
    if (input > MAX_UNIX_MS)
      bad('is out of range: unix seconds go up to 253402300799 (9999-12-31T23:59:59Z)');
    if (input > 1e11) bad('looks like milliseconds; pass unix seconds');
    if (input < MIN_UNIX) {
      if (Number.isInteger(input) && input >= 1000 && input <= 9999)
        bad(`looks like a year, not unix seconds; write a date, e.g. "${input}-01-01T00:00:00Z"`);
      bad(
        `is unix second ${input} (${new Date(input * 1000).toISOString()}), before 2000; write a date, e.g. "2024-05-01T12:00:00Z", or a relative time like "now-1h"`,
      );
    }
    return input;
  }
  const s = input.trim();
  if (s === '') bad('is empty');
  if (/^now$/i.test(s)) return now;
  const rel = /^(?:now)?\s*([+-])\s*(.+)$/i.exec(s);
  if (rel && (/^now/i.test(s) || rel[1] === '-')) {
    const d = parseDuration(rel[2]!);
    if (d === undefined || /^\d+(\.\d+)?$/.test(rel[2]!.trim()))
      bad('has an unreadable duration (use units: 30m, 1h, 2d)');
    const t = rel[1] === '-' ? now - d! : now + d!;
    if (!Number.isFinite(d!) || t < 0 || t > MAX_UNIX)
      bad(
        `has an offset out of range (${rel[1]}${clip(rel[2]!.trim())} reaches ${t < 0 || !Number.isFinite(t) ? 'before 1970' : 'past the year 9999'}); use an offset like now-30d`,
      );
    return t;
  }
  if (/^\d+(\.\d+)?$/.test(s)) return parseTime(Number(s), now, name);
  if (RFC3339_RE.test(s)) {
    const iso = /^\d{4}-\d{2}-\d{2}$/.test(s)
      ? `${s}T00:00:00Z`
      : /(Z|[+-]\d{2}:?\d{2})$/i.test(s)
        ? s
        : `${s}Z`;
    const ms = Date.parse(iso.replace(' ', 'T'));
    const [, y, mo, d, h = '0', mi = '0', sec = '0'] =
      /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/i.exec(s)!;
    const validDay = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d))).getUTCDate() === Number(d);
    if (
      Number.isNaN(ms) ||
      !validDay ||
      Number(mo) > 12 ||
      Number(h) > 23 ||
      Number(mi) > 59 ||
      Number(sec) > 60
    )
      bad('is not a valid date');
    return ms / 1000;
  }
  return bad('is not a time I can read');
}

/** Round a raw step up to a readable one (1s, 2s, 5s, 10s, 15s, 30s, 1m, ...). */
export function niceStep(raw: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  for (const s of steps) if (s >= raw) return s;
  return Math.ceil(raw / 86400) * 86400;
}

export interface Range {
  start: number;
  end: number;
  step: number;
  /** Points per series the range asks for. */
  points: number;
  /** True when the step was chosen for the caller. */
  autoStep: boolean;
}

/** Resolve and check start/end/step of a range query. Throws bad_time / bad_step / range_too_large. */
export function resolveRange(
  args: { start?: string | number; end?: string | number; step?: string | number },
  opts: { now?: number; maxRange: number; defaultWindow?: number },
): Range {
  const now = opts.now ?? Date.now() / 1000;
  const end = args.end === undefined ? now : parseTime(args.end, now, 'end');
  const start =
    args.start === undefined ? end - (opts.defaultWindow ?? 3600) : parseTime(args.start, now, 'start');
  if (start > end) {
    throw new ToolError(
      'bad_time',
      `start (${new Date(start * 1000).toISOString()}) is after end (${new Date(end * 1000).toISOString()})`,
      'swap them, or give start earlier than end (e.g. start: "now-1h", end: "now")',
    );
  }
  const range = end - start;
  if (range > opts.maxRange) {
    throw new ToolError(
      'range_too_large',
      `the range spans ${humanDuration(range)}, more than this instance allows (${humanDuration(opts.maxRange)})`,
      `query at most ${formatDuration(opts.maxRange)} at a time (e.g. start: "now-${formatDuration(Math.min(opts.maxRange, 86400))}"), or raise maxRange in the config`,
    );
  }
  let step: number;
  const autoStep = args.step === undefined;
  if (autoStep) {
    step = niceStep(Math.max(range / TARGET_POINTS, 1));
  } else {
    const d = parseDuration(args.step!);
    if (d === undefined) {
      throw new ToolError(
        'bad_step',
        `step "${args.step}" is not a duration`,
        'use seconds (15) or a duration (15s, 1m, 1h), or omit step to get ~250 points',
      );
    }
    if (d <= 0) {
      throw new ToolError(
        'bad_step',
        'step must be greater than zero',
        'use e.g. step: "1m", or omit step to get ~250 points',
      );
    }
    step = d;
  }
  const points = Math.floor(range / step) + 1;
  if (points > MAX_POINTS) {
    throw new ToolError(
      'bad_step',
      `step ${formatDuration(step)} over ${humanDuration(range)} asks for ${points} points per series (Prometheus allows ${MAX_POINTS})`,
      `use a step of at least ${formatDuration(niceStep(range / TARGET_POINTS))}, or omit step`,
    );
  }
  return { start, end, step, points, autoStep };
}

/** Unix seconds -> compact RFC 3339 (no milliseconds when whole). */
export function isoTime(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}
