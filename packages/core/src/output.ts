/** Output shaping: aligned tables, human units, byte budgets, opaque cursors. */

export const DEFAULT_BUDGET = 16_384;

/** Bytes of a string as UTF-8. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Aligned plain-text table. Cells are stringified; null/undefined render as "-". */
export function table(headers: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))));
  const widths = headers.map((h) => h.length);
  for (const row of cells) for (const [i, c] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length);
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function humanBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${n < 0 ? '-' : ''}${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)}${BYTE_UNITS[u]}`;
}

/** 90061 -> "1d1h1m1s"; fractional seconds below 1 -> "250ms". */
export function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (Math.abs(seconds) < 1) return `${Math.round(seconds * 1000)}ms`;
  let s = Math.round(seconds);
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s || parts.length === 0) parts.push(`${s}s`);
  return parts.join('');
}

/** Short number: 1234567 -> "1.23M", 0.000123 -> "0.000123", 12.3456 -> "12.35". */
export function humanNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  if (a >= 1e12) return `${(n / 1e12).toPrecision(3)}T`;
  if (a >= 1e9) return `${(n / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  if (a === 0 || Number.isInteger(n)) return String(n);
  if (a >= 0.01) return String(Number(n.toFixed(2)));
  return String(Number(n.toPrecision(3)));
}

export interface Fitted<T> {
  items: T[];
  /** How many items were left out. */
  omitted: number;
}

/**
 * Keep as many items (in order) as fit in `budget` bytes when each is rendered by `render`
 * (a line of text, or JSON). Always keeps at least one item when there is one.
 */
export function fitToBudget<T>(
  items: readonly T[],
  budget: number,
  render: (item: T) => string = (i) => JSON.stringify(i),
): Fitted<T> {
  let used = 0;
  const out: T[] = [];
  for (const item of items) {
    const size = byteLength(render(item)) + 1;
    if (out.length > 0 && used + size > budget) break;
    used += size;
    out.push(item);
  }
  return { items: out, omitted: items.length - out.length };
}

/** The explicit line the model sees when something was cut. */
export function truncationNotice(omitted: number, what: string, narrow: string): string {
  return `truncated: ${omitted} more ${what}; narrow with ${narrow}`;
}

/** Cut text to a byte budget on a line boundary, appending a notice. */
export function truncateText(
  text: string,
  budget: number,
  narrow = 'a narrower request or a larger maxBytes',
): { text: string; truncated: boolean } {
  if (byteLength(text) <= budget) return { text, truncated: false };
  const lines = text.split('\n');
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const size = byteLength(line) + 1;
    if (used + size > budget - 120) break;
    kept.push(line);
    used += size;
  }
  if (kept.length === 0)
    kept.push(
      Buffer.from(text)
        .subarray(0, Math.max(0, budget - 120))
        .toString('utf8'),
    );
  return {
    text: `${kept.join('\n')}\n${truncationNotice(lines.length - kept.length, 'lines', narrow)}`,
    truncated: true,
  };
}

/** Opaque pagination cursor (base64url JSON). */
export function encodeCursor(state: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

export function decodeCursor<T extends Record<string, unknown>>(cursor: string): T {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as T;
  } catch {}
  throw new Error('invalid cursor: pass the cursor exactly as returned by the previous page');
}

/** Compact, deterministic text rendering of structured data for tools that give none (YAML-like, no JSON noise). */
export function renderData(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return `${indent}-`;
  if (typeof value !== 'object') return `${indent}${String(value)}`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${indent}(none)`;
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v)))];
      if (
        keys.every((k) => value.every((v) => typeof (v as any)[k] !== 'object' || (v as any)[k] === null))
      ) {
        return table(
          keys,
          value.map((v) => keys.map((k) => (v as any)[k])),
        )
          .split('\n')
          .map((l) => indent + l)
          .join('\n');
      }
    }
    return value
      .map((v) =>
        typeof v === 'object' && v !== null
          ? `${indent}-\n${renderData(v, `${indent}  `)}`
          : `${indent}- ${v}`,
      )
      .join('\n');
  }
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) =>
      v && typeof v === 'object'
        ? `${indent}${k}:\n${renderData(v, `${indent}  `)}`
        : `${indent}${k}: ${v === null ? '-' : v}`,
    )
    .join('\n');
}
