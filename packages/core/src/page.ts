/**
 * Fitting answers into the call's byte budget, and cursors for lists.
 *
 * **The budget** (`ctx.budget`, the per-call `maxBytes`): the UTF-8 bytes an answer puts in the
 * model's context, i.e. `JSON.stringify(structuredContent)` plus the text of the text content
 * block, counted together ({@link answerBytes}). Tools fit to it with these helpers; core checks
 * the same sum on the way out ({@link checkAnswer}). Every fixed part (echoed query, warnings,
 * headers, the truncation line, the cursor) is measured, not guessed: pages are sized by building
 * the real answer.
 */
import { z } from 'zod';
import { maxBytesArg } from './args.js';
import { ToolError } from './errors.js';
import { canonicalJson, sha256 } from './hash.js';
import { byteLength, truncateText } from './output.js';

/** An answer as it reaches the model: structured data and its text rendering. */
export interface Answer<D> {
  data: D;
  text: string;
}

/** Bytes of an answer against the budget: structured JSON plus text (see the module comment). */
export function answerBytes(r: { data: unknown; text?: string }): number {
  return byteLength(JSON.stringify(r.data) ?? '') + byteLength(r.text ?? '');
}

/**
 * Last line of defence, used by core on every result and by tools that want a specific message:
 * an answer over the budget is refused with a hint rather than sent.
 */
export function checkAnswer(tool: string, answer: { data: unknown; text?: string }, budget: number): void {
  const bytes = answerBytes(answer);
  if (bytes > budget) {
    throw new ToolError(
      'over_budget',
      `the ${tool} answer needs ${bytes} bytes even trimmed, more than maxBytes=${budget}`,
      `raise maxBytes (e.g. maxBytes: ${Math.min(1_048_576, 2 ** Math.ceil(Math.log2(bytes + 1)))}) or narrow the request`,
    );
  }
}

/**
 * Core's last step for every result (server `shape`): the answer against the budget, with one
 * measure. Structured JSON over the budget on its own is refused (over_budget); otherwise the text
 * is cut on a line boundary to what the JSON leaves (with a "truncated" line).
 */
export function fitAnswer(
  tool: string,
  data: unknown,
  text: string,
  budget: number,
): { text: string; truncated: boolean } {
  const json = byteLength(JSON.stringify(data) ?? '');
  if (json + byteLength(text) <= budget) return { text, truncated: false };
  // the text needs room for at least its truncation line
  if (json + 160 > budget)
    throw new ToolError(
      'over_budget',
      `the ${tool} answer is ${json} bytes of structured data, over the ${budget}-byte budget (which also holds its text)`,
      `narrow the request, or raise maxBytes where the tool accepts it (e.g. maxBytes: ${Math.min(1_048_576, 2 ** Math.ceil(Math.log2(json + 1024)))})`,
    );
  return truncateText(text, budget - json);
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

/** Tail of `s` in at most `max` UTF-8 bytes, cut on a character boundary. */
export function tailBytes(s: string, max: number): string {
  if (byteLength(s) <= max) return s;
  const chars = [...s];
  let used = 0;
  let i = chars.length;
  while (i > 0) {
    const n = byteLength(chars[i - 1]!);
    if (used + n > max) break;
    used += n;
    i--;
  }
  return chars.slice(i).join('');
}

export interface Echo {
  /** What the answer repeats: the argument, or its head, "…" and its full size. */
  text: string;
  abbreviated: boolean;
  /** Bytes of the full argument. */
  bytes: number;
}

/**
 * An argument the answer repeats (a query, selectors): whole when it takes at most a sixteenth of
 * the budget (80 bytes at least), else abbreviated. The caller has the full text.
 */
export function echo(s: string, budget: number, what = 'query'): Echo {
  const bytes = byteLength(s);
  const limit = Math.max(80, Math.floor(budget / 16));
  if (bytes <= limit) return { text: s, abbreviated: false, bytes };
  const suffix = `… (${what}: ${bytes} bytes in all)`;
  return { text: `${headBytes(s, limit - byteLength(suffix))}${suffix}`, abbreviated: true, bytes };
}

export interface Notes {
  /** Notes as kept (each possibly clipped), warnings first. */
  kept: string[];
  /** Text lines: "warning: ...", "info: ...", and a line saying how many were left out. */
  lines: string[];
  omitted: number;
}

/**
 * Backend warnings and infos, kept (they change what the numbers mean) within a quarter of the
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

// ---------------------------------------------------------------- schemas

export const cursorArg = z
  .string()
  .min(1)
  .max(2048)
  .optional()
  .describe('nextCursor of the previous page (same other arguments)');

export const nextCursorSchema = z.string().optional().describe('Pass as cursor for the next page');
export const offsetSchema = z.number().optional().describe('Index of the first item shown');

/** Input of a list tool: the tool's own fields plus `cursor` and `maxBytes`. */
export function listInput<S extends z.ZodRawShape>(shape: S) {
  return z.object({ ...shape, cursor: cursorArg, maxBytes: maxBytesArg });
}

/** Output of a list tool: the tool's own fields plus `omitted`, `offset`, `nextCursor` and `truncated`. */
export function listOutput<S extends z.ZodRawShape>(shape: S) {
  return z.object({
    ...shape,
    omitted: z.number().describe('Items not shown'),
    offset: offsetSchema,
    nextCursor: nextCursorSchema,
    truncated: z.boolean(),
  });
}

// ---------------------------------------------------------------- cursors

interface CursorState extends Record<string, unknown> {
  /** Offset of the next page's first item (within the backend's page when `c` is set). */
  o: number;
  /** Fingerprint of the tool, instance and arguments that made the list. */
  f: string;
  /** The backend's own continue token (e.g. Kubernetes `continue`) of the backend page to read. */
  c?: string;
  /** State pinned by the first page (e.g. the evaluation time), so later pages answer the same question. */
  s?: unknown;
}

/**
 * Fingerprint of a list request: tool, instance and every argument except `cursor` and `maxBytes`
 * (a caller may change the page size between pages).
 */
export function fingerprint(tool: string, instance: string, args: Record<string, unknown>): string {
  const { cursor: _cursor, maxBytes: _maxBytes, instance: _instance, ...rest } = args;
  return sha256(canonicalJson({ tool, instance, args: rest })).slice(0, 12);
}

/** Where a cursor points: an offset, the backend's continue token, and state pinned by the first page. */
export interface CursorPosition<S = unknown> {
  fingerprint: string;
  offset: number;
  /** Backend continue token to fetch with (undefined: the backend's first page). */
  token?: string;
  /** State pinned by the first page (undefined on the first page). */
  state?: S;
}

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const unb64 = (s: string) => Buffer.from(s, 'base64url').toString('utf8');

/**
 * A page cursor, short because it is paid for twice (text and structured): `<offset>.<fingerprint>`,
 * then `.<continue token>` and `.<pinned state>` (base64url) when there are.
 */
function encodePageCursor(c: CursorState): string {
  const parts = [String(c.o), c.f];
  if (c.c !== undefined || c.s !== undefined) parts.push(c.c === undefined ? '' : b64(c.c));
  if (c.s !== undefined) parts.push(b64(JSON.stringify(c.s)));
  return parts.join('.');
}

function decodePageCursor(cursor: string): Partial<CursorState> | undefined {
  const [o, f, c, s, ...rest] = cursor.split('.');
  if (rest.length || !o || !/^\d+$/.test(o) || !f || !/^[0-9a-f]+$/.test(f)) return undefined;
  try {
    return {
      o: Number(o),
      f,
      ...(c ? { c: unb64(c) } : {}),
      ...(s ? { s: JSON.parse(unb64(s)) } : {}),
    };
  } catch {
    return undefined;
  }
}

/** Read a cursor. Throws bad_cursor when it is unreadable or was made for other arguments. */
export function openCursor<S = unknown>(cursor: string | undefined, fp: string): CursorPosition<S> {
  if (cursor === undefined) return { fingerprint: fp, offset: 0 };
  const state = decodePageCursor(cursor);
  if (
    !state ||
    typeof state.o !== 'number' ||
    !Number.isSafeInteger(state.o) ||
    state.o < 0 ||
    typeof state.f !== 'string' ||
    (state.c !== undefined && typeof state.c !== 'string')
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
  return { fingerprint: fp, offset: state.o, token: state.c, state: state.s as S };
}

/** Offset a cursor points at (lists fetched whole). */
export function readCursor(cursor: string | undefined, fp: string): number {
  return openCursor(cursor, fp).offset;
}

// ---------------------------------------------------------------- pages

export interface Page<T> {
  /** Items on this page, in list order (also with `keep: 'tail'`). */
  items: T[];
  /** Index of the first item in the whole list (in the backend page, for backend-paged lists). */
  offset: number;
  /** Items known: this backend page (plus `remaining`, when the backend says). */
  total: number;
  /** Items left out of this answer (after it; before it with `keep: 'tail'`), as far as known. */
  omitted: number;
  /** Cursor of the next page (paginated lists with more items only). */
  nextCursor?: string;
  /** More items follow (counted in `omitted`, or a backend page whose size the backend does not say). */
  more: boolean;
  /** Budget of the answer, for notices. */
  budget: number;
  /** `tail`: the newest items were kept, older ones left out. */
  keep: 'head' | 'tail';
}

export interface FitOptions<T, D> {
  items: readonly T[];
  budget: number;
  /** Text of one item as rendered (used to estimate the first page size). */
  line: (item: T) => string;
  /** The whole answer for a page. Called a few times; keep it pure. */
  build: (page: Page<T>) => Answer<D>;
  /** Set for paginated lists: pages after the first come by cursor (a function: computed when needed). */
  fingerprint?: string | (() => string);
  /** Offset read from the cursor. */
  offset?: number;
  /** Keep the head (default) or the tail (logs: the newest lines). A tail is not paginated. */
  keep?: 'head' | 'tail';
  /** Backend-paged lists: the continue token `items` were fetched with (kept in cursors of this page). */
  token?: string;
  /** Backend-paged lists: the backend's token for the page after `items` (none: this was the last). */
  next?: string;
  /** Backend-paged lists: items after `items` when the backend says (Kubernetes `remainingItemCount`). */
  remaining?: number;
  /** State to pin in every cursor of this list (e.g. the evaluation time). */
  state?: unknown;
}

/**
 * The largest page, from `offset` (or, with `keep: 'tail'`, the newest items), whose whole answer
 * (structured JSON + text, fixed parts included) fits the budget. Sizes are measured on the built
 * answer, so a budget that holds a few items shows them. A single item larger than the budget
 * gives an empty page whose notice says so; the cursor then stays on that item.
 */
export function fitPage<T, D>(opts: FitOptions<T, D>): Answer<D> & { page: Page<T> } {
  const { items, budget } = opts;
  const keep = opts.keep ?? 'head';
  const offset = keep === 'tail' ? 0 : Math.min(opts.offset ?? 0, items.length);
  const rest = items.length - offset;
  const remaining = opts.remaining ?? 0;
  const make = (k: number) => {
    const inPage = rest - k;
    const page: Page<T> = {
      items: keep === 'tail' ? items.slice(items.length - k) : items.slice(offset, offset + k),
      offset: keep === 'tail' ? items.length - k : offset,
      total: items.length + remaining,
      omitted: inPage + remaining,
      more: inPage + remaining > 0 || opts.next !== undefined,
      budget,
      keep,
    };
    if (opts.fingerprint !== undefined && keep === 'head' && (inPage > 0 || opts.next !== undefined)) {
      const f = typeof opts.fingerprint === 'function' ? opts.fingerprint() : opts.fingerprint;
      const base = { f, ...(opts.state !== undefined ? { s: opts.state } : {}) };
      if (inPage > 0)
        page.nextCursor = encodePageCursor({
          ...base,
          o: offset + k,
          ...(opts.token !== undefined ? { c: opts.token } : {}),
        });
      else if (opts.next !== undefined) page.nextCursor = encodePageCursor({ ...base, o: 0, c: opts.next });
    }
    return { ...opts.build(page), page };
  };
  const fits = (r: Answer<D>) => answerBytes(r) <= budget;
  if (rest === 0) return make(0);
  const cost = (i: number) => {
    const item = keep === 'tail' ? items[items.length - 1 - i]! : items[offset + i]!;
    return byteLength(JSON.stringify(item) ?? '') + 1 + byteLength(opts.line(item)) + 1;
  };
  // Small answers (the usual case): when the items alone fit, try them all at once.
  let itemsBytes = 0;
  for (let i = 0; i < rest && itemsBytes <= budget; i++) itemsBytes += cost(i);
  if (itemsBytes <= budget) {
    const whole = make(rest);
    if (fits(whole)) return whole;
  }
  const empty = make(0);
  // First guess from the per-item sizes; then measured: grow while it fits, else search below.
  let used = answerBytes(empty);
  let guess = 0;
  for (let i = 0; i < rest; i++) {
    const c = cost(i);
    if (used + c > budget) break;
    used += c;
    guess++;
  }
  let lo = 0; // largest k known to fit
  let best = empty;
  let hi = rest; // smallest k known not to fit is > hi
  if (guess > 0) {
    const r = make(guess);
    if (fits(r)) {
      lo = guess;
      best = r;
    } else hi = guess - 1;
  } else {
    // the estimate counts each item's JSON and line apart; one item may still fit
    const one = make(1);
    if (fits(one)) {
      lo = 1;
      best = one;
    } else return empty;
  }
  if (lo === guess && guess > 0) {
    // gallop up: the estimate may be short of what fits
    let step = 1;
    while (lo < rest) {
      const k = Math.min(rest, lo + step);
      const r = make(k);
      if (!fits(r)) {
        hi = k - 1;
        break;
      }
      lo = k;
      best = r;
      step *= 2;
    }
    if (lo === rest) return best;
  }
  // binary search in (lo, hi]
  let a = lo + 1;
  let b = hi;
  while (a <= b) {
    const mid = (a + b) >> 1;
    const r = make(mid);
    if (fits(r)) {
      best = r;
      a = mid + 1;
    } else b = mid - 1;
  }
  return best;
}

/** {@link fitPage} keeping the newest items (the end of the list): logs, events. */
export function fitTail<T, D>(opts: Omit<FitOptions<T, D>, 'keep'>): Answer<D> & { page: Page<T> } {
  return fitPage({ ...opts, keep: 'tail' });
}

/**
 * The line the model sees when a page leaves items out:
 * `truncated: N more <what>; pass cursor=<c> for the next page, or narrow with <narrow>`.
 */
export function pageNotice(page: Page<unknown>, what: string, narrow: string, compact = false): string[] {
  if (!page.more) return [];
  if (compact && page.items.length > 0) {
    const n = page.omitted > 0 ? `${page.omitted} ` : '';
    return [`truncated: ${n}more ${what}${page.nextCursor ? `; cursor=${page.nextCursor}` : ''}`];
  }
  if (page.keep === 'tail') {
    return [
      `truncated: ${page.omitted} older ${what} left out (newest kept); raise maxBytes or narrow with ${narrow}`,
    ];
  }
  const head = page.omitted > 0 ? `truncated: ${page.omitted} more ${what}` : `truncated: more ${what}`;
  if (page.items.length === 0) {
    const again =
      page.nextCursor && (page.offset > 0 || page.total > page.omitted)
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
  if (page.offset === 0 && !page.more) return '';
  if (page.items.length === 0)
    return page.offset >= page.total
      ? ` · none from ${page.offset + 1} (the list has ${page.total} now)`
      : ` · none shown of ${page.total}`;
  return ` · ${page.offset + 1}-${page.offset + page.items.length} of ${page.total}`;
}

/** Structured paging fields: `omitted`, `offset` (past the first item), `nextCursor`, `truncated`. */
export function pageFields(page: Page<unknown>): {
  omitted: number;
  offset?: number;
  nextCursor?: string;
  truncated: boolean;
} {
  return {
    omitted: page.omitted,
    ...(page.offset > 0 ? { offset: page.offset } : {}),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    truncated: page.more,
  };
}

// ---------------------------------------------------------------- list tools

export interface ListPageOptions<T, D> {
  /** The list, in a stable order (pages must follow each other). */
  items: readonly T[];
  /** Text of one item (estimates; also the default body: one line per item). */
  line: (item: T) => string;
  /** Plural noun for notices ("label names"). */
  what: string;
  /** What narrows the list ("match, or start/end"). */
  narrow: string;
  /** The tool's own structured fields for a page (paging fields are added). */
  data: (page: Page<T>) => D;
  /** Text lines before the notice; `range` is " · 1-20 of 80" or "". Default: one line per item. */
  text?: (page: Page<T>, range: string) => (string | false | undefined)[];
  /** Lines after the notice (backend warnings). */
  notes?: readonly string[];
  keep?: 'head' | 'tail';
  /** Backend continue token of the page after `items` (backend-paged lists). */
  next?: string;
  /** Items after `items` in the backend, when known. */
  remaining?: number;
  /** State pinned in the cursors (see {@link CursorPosition.state}). */
  state?: unknown;
}

/**
 * A list tool's answer in one call: its own fields and lines, plus paging fields, the range, the
 * truncation notice, and a cursor that carries the backend's continue token.
 *
 *   const list = pager('labels', ctx, args);            // reads args.cursor
 *   const r = await api(..., { continue: list.token });
 *   return list.page({ items: r.items, next: r.continue, line, what: 'labels', narrow: 'match', data });
 */
export function pager<S = unknown>(
  tool: string,
  ctx: { instance: string; budget: number },
  args: { cursor?: string } & Record<string, unknown>,
) {
  // the fingerprint (a hash of the arguments) is computed only when a cursor is read or written
  let fp: string | undefined;
  const fpOf = () => {
    fp ??= fingerprint(tool, ctx.instance, args);
    return fp;
  };
  const at: Omit<CursorPosition<S>, 'fingerprint'> = args.cursor === undefined
    ? { offset: 0 }
    : openCursor<S>(args.cursor, fpOf());
  return {
    /** Offset in the backend page the cursor points at. */
    offset: at.offset,
    /** Backend continue token to fetch with (undefined: the first backend page). */
    token: at.token,
    /** State pinned by the first page (undefined on the first page). */
    state: at.state,
    page<T, D>(o: ListPageOptions<T, D>) {
      // the full notice says what to do; when it leaves no room for any item, the short one may
      const fit = (compact: boolean) =>
        fitPage({
          items: o.items,
          budget: ctx.budget,
          fingerprint: fpOf,
          offset: at.offset,
          token: at.token,
          next: o.next,
          remaining: o.remaining,
          state: o.state ?? at.state,
          keep: o.keep,
          line: o.line,
          build: (p) => ({
            data: { ...o.data(p), ...pageFields(p) },
            text: [
              ...(o.text ? o.text(p, pageRange(p)) : p.items.map(o.line)),
              ...pageNotice(p, o.what, o.narrow, compact),
              ...(o.notes ?? []),
            ]
              .filter((l): l is string => typeof l === 'string')
              .join('\n'),
          }),
        });
      let best = fit(false);
      if (best.page.more && best.page.items.length === 0) {
        const short = fit(true);
        if (short.page.items.length > 0) best = short;
      }
      const { data, text, page } = best;
      return { data, text, truncated: page.more };
    },
  };
}
