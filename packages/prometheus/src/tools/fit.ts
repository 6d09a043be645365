/**
 * Fitting answers into the call's byte budget, and cursors for lists.
 *
 * The budget covers what reaches the model: the `structuredContent` JSON and the text rendering
 * together. Every fixed part (echoed query, warnings, headers, the truncation line, the cursor) is
 * measured, not guessed, before rows are added; the result is then checked and trimmed if the
 * estimate was off.
 */
import { byteLength, canonicalJson, decodeCursor, encodeCursor, sha256, ToolError } from '@infra-mcp/core';
import { z } from 'zod';

export const cursorArg = z
  .string()
  .min(1)
  .max(512)
  .optional()
  .describe('nextCursor of the previous page (same arguments; maxBytes may change)');

export const nextCursorSchema = z.string().optional().describe('Pass as cursor to get the next page');

/** Bytes of the whole answer: structured JSON plus text. */
export function answerBytes(r: { data: unknown; text: string }): number {
  return byteLength(JSON.stringify(r.data)) + byteLength(r.text);
}

/** Head of `s` in at most `max` UTF-8 bytes, cut on a character boundary. */
export function headBytes(s: string, max: number): string {
  if (byteLength(s) <= max) return s;
  let used = 0;
  let out = '';
  for (const ch of s) {
    const n = byteLength(ch);
    if (used + n > max) break;
    used += n;
    out += ch;
  }
  return out;
}

export interface Echo {
  /** What the answer repeats: the argument, or its head, "…" and its full size. */
  text: string;
  abbreviated: boolean;
  /** Bytes of the full argument. */
  bytes: number;
}

/**
 * An argument the answer repeats (a PromQL query, selectors): whole when it takes at most a
 * sixteenth of the budget (80 bytes at least), else abbreviated. The caller has the full text; repeating 4 KB of it would crowd
 * out the data.
 */
export function echo(s: string, budget: number, what = 'query'): Echo {
  const bytes = byteLength(s);
  const limit = Math.max(80, Math.floor(budget / 16));
  if (bytes <= limit) return { text: s, abbreviated: false, bytes };
  const suffix = `… (${what}: ${bytes} bytes in all)`;
  return { text: `${headBytes(s, limit - byteLength(suffix))}${suffix}`, abbreviated: true, bytes };
}

export interface Notes {
  /** Warnings then infos, as kept (each possibly clipped). */
  kept: string[];
  /** Text lines: "warning: ...", "info: ...", and a line saying how many were left out. */
  lines: string[];
  omitted: number;
}

/**
 * Prometheus warnings and infos, kept (they change what the numbers mean) within a quarter of the
 * budget: each clipped to a sixteenth, the rest counted and said.
 */
export function fitNotes(warnings: readonly string[], infos: readonly string[], budget: number): Notes {
  const allowance = Math.floor(budget / 4);
  const each = Math.max(64, Math.floor(budget / 16));
  const clip = (s: string) => (byteLength(s) <= each ? s : `${headBytes(s, each - 3)}…`);
  const all = [
    ...warnings.map((w) => ['warning', clip(w)] as const),
    ...infos.map((i) => ['info', clip(i)] as const),
  ];
  const kept: string[] = [];
  const lines: string[] = [];
  let used = 0;
  for (const [kind, note] of all) {
    const line = `${kind}: ${note}`;
    const cost = byteLength(JSON.stringify(note)) + 1 + byteLength(line) + 1;
    if (used + cost > allowance) break;
    used += cost;
    kept.push(note);
    lines.push(line);
  }
  const omitted = all.length - kept.length;
  if (omitted > 0) lines.push(`(${omitted} more warnings/infos left out; raise maxBytes to see them)`);
  return { kept, lines, omitted };
}

/** Structured fields for the notes: `warnings`, and `warningsOmitted` when some were left out. */
export function noteFields(notes: Notes): { warnings: string[]; warningsOmitted?: number } {
  return notes.omitted ? { warnings: notes.kept, warningsOmitted: notes.omitted } : { warnings: notes.kept };
}

// ---------------------------------------------------------------- cursors

interface CursorState extends Record<string, unknown> {
  /** Offset of the next page's first item. */
  o: number;
  /** Fingerprint of the tool, instance and arguments that made the list. */
  f: string;
}

/**
 * Fingerprint of a list request: tool, instance and every argument except `cursor` and `maxBytes`
 * (a caller may change the page size between pages).
 */
export function fingerprint(tool: string, instance: string, args: Record<string, unknown>): string {
  const { cursor: _cursor, maxBytes: _maxBytes, instance: _instance, ...rest } = args;
  return sha256(canonicalJson({ tool, instance, args: rest })).slice(0, 16);
}

/** Offset a cursor points at. Throws bad_cursor when it is unreadable or was made for other arguments. */
export function readCursor(cursor: string | undefined, fp: string): number {
  if (cursor === undefined) return 0;
  let state: Partial<CursorState> | undefined;
  try {
    state = decodeCursor<Partial<CursorState>>(cursor);
  } catch {
    state = undefined;
  }
  if (
    !state ||
    typeof state.o !== 'number' ||
    !Number.isSafeInteger(state.o) ||
    state.o < 0 ||
    typeof state.f !== 'string'
  ) {
    throw new ToolError(
      'bad_cursor',
      'cursor is not one this tool returned',
      'pass nextCursor exactly as the previous page returned it, or omit cursor to start at the first page',
    );
  }
  if (state.f !== fp) {
    throw new ToolError(
      'bad_cursor',
      'cursor was returned for other arguments (or another tool or instance)',
      'repeat the arguments of the call that returned it (only maxBytes may change), or omit cursor to start over',
    );
  }
  return state.o;
}

// ---------------------------------------------------------------- pages

export interface Page<T> {
  /** Items on this page. */
  items: T[];
  /** Index of the first item in the whole list. */
  offset: number;
  /** Items in the whole list. */
  total: number;
  /** Items after this page (left out). */
  omitted: number;
  /** Cursor of the next page (paginated lists with more items only). */
  nextCursor?: string;
  /** Budget of the answer, for notices. */
  budget: number;
}

export interface Answer<D> {
  data: D;
  text: string;
}

export interface FitOptions<T, D> {
  items: readonly T[];
  budget: number;
  /** Text of one item as rendered (counted with its JSON when estimating). */
  line: (item: T) => string;
  /** The whole answer for a page. Called a few times; keep it pure. */
  build: (page: Page<T>) => Answer<D>;
  /** Set for paginated lists: pages after the first come by cursor. */
  fingerprint?: string;
  /** Offset read from the cursor. */
  offset?: number;
}

/** Slack for digits that change between the measured empty page and the real one (counts, offsets). */
export const SLACK = 48;

/**
 * The largest page, from `offset`, whose whole answer (structured JSON + text, fixed parts
 * included) fits the budget. A single item larger than what is left of the budget gives an empty
 * page whose notice says so; the cursor then stays on that item.
 */
export function fitPage<T, D>(opts: FitOptions<T, D>): Answer<D> & { page: Page<T> } {
  const { items, budget } = opts;
  const offset = Math.min(opts.offset ?? 0, items.length);
  const rest = items.length - offset;
  const make = (k: number) => {
    const omitted = rest - k;
    const page: Page<T> = {
      items: items.slice(offset, offset + k),
      offset,
      total: items.length,
      omitted,
      budget,
    };
    if (opts.fingerprint !== undefined && omitted > 0)
      page.nextCursor = encodeCursor({ o: offset + k, f: opts.fingerprint } satisfies CursorState);
    return { ...opts.build(page), page };
  };
  // Fixed parts, measured with a cursor (when there could be one) and a truncation line.
  const empty = make(0);
  let used = answerBytes(empty) + SLACK;
  let k = 0;
  for (let i = offset; i < items.length; i++) {
    const item = items[i]!;
    const cost = byteLength(JSON.stringify(item)) + 1 + byteLength(opts.line(item)) + 1;
    if (used + cost > budget) break;
    used += cost;
    k++;
  }
  if (k === 0) return empty;
  const first = make(k);
  if (answerBytes(first) <= budget) return first;
  // The estimate was short (table padding, longer numbers): the largest k that fits.
  let lo = 0;
  let hi = k - 1;
  let best = empty;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = mid === 0 ? empty : make(mid);
    if (answerBytes(r) <= budget) {
      best = r;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

/**
 * The line the model sees when a page leaves items out:
 * `truncated: N more <what>; pass cursor=<c> for the next page, or narrow with <narrow>`.
 */
export function pageNotice(page: Page<unknown>, what: string, narrow: string): string[] {
  if (page.omitted <= 0) return [];
  const head = `truncated: ${page.omitted} more ${what}`;
  if (page.items.length === 0) {
    // Nothing fitted: the next item alone is over what the budget leaves. A cursor would not move.
    const again =
      page.nextCursor && page.offset > 0
        ? `call again with a larger maxBytes and cursor=${page.nextCursor}`
        : 'call again with a larger maxBytes';
    return [
      `${head}; the next one alone does not fit in maxBytes=${page.budget}: ${again}, or narrow with ${narrow}`,
    ];
  }
  return [
    page.nextCursor
      ? `${head}; pass cursor=${page.nextCursor} for the next page, or narrow with ${narrow}`
      : `${head}; narrow with ${narrow}`,
  ];
}

/** " · items 201-400 of 812" when the page is not the whole list, else "". */
export function pageRange(page: Page<unknown>): string {
  if (page.offset === 0 && page.omitted === 0) return '';
  if (page.items.length === 0)
    return page.offset >= page.total
      ? ` · none from ${page.offset + 1} (the list has ${page.total} now)`
      : ` · none shown of ${page.total}`;
  return ` · ${page.offset + 1}-${page.offset + page.items.length} of ${page.total}`;
}

/** Structured paging fields: `offset` (when past the first page) and `nextCursor` (when there is more). */
export function pageFields(page: Page<unknown>): { offset?: number; nextCursor?: string } {
  return {
    ...(page.offset > 0 ? { offset: page.offset } : {}),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
}

export const offsetSchema = z.number().optional().describe('Index of the first item (pages after the first)');

/**
 * Last line of defence: a tool result whose structured JSON is over the budget is refused here, with
 * a hint, rather than sent (core would refuse it too, less specifically).
 */
export function checkBudget(tool: string, data: unknown, budget: number): void {
  const bytes = byteLength(JSON.stringify(data));
  if (bytes > budget) {
    throw new ToolError(
      'over_budget',
      `the ${tool} answer needs ${bytes} bytes even trimmed, more than maxBytes=${budget}`,
      `raise maxBytes (e.g. maxBytes: ${Math.min(1_048_576, 2 ** Math.ceil(Math.log2(bytes + 1)))}) or narrow the request`,
    );
  }
}

export const queryEchoSchema = z.string().describe('The query (abbreviated with … when long)');
export const queryBytesSchema = z.number().optional().describe('Bytes of the full query, when abbreviated');
