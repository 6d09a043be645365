/**
 * Values a tool shows its caller as they are (`ctx.reveal`), on an instance whose config opts in
 * (a Secret's values): the caller's answer gets them, nothing else does. The tool puts a marker
 * where the value goes; core redacts the answer around the markers, then puts the values in.
 * Audit records, logs and errors never see them: a marker in `ToolResult.audit` stays a marker.
 */
import { randomBytes } from 'node:crypto';

export class Reveals {
  private readonly values = new Map<string, string>();
  private readonly id = randomBytes(9).toString('base64url');

  /** A marker for `value`, to put in the answer's data (as a whole string value) or text (anywhere). */
  mark(value: string): string {
    const marker = `\u27e6reveal:${this.id}:${this.values.size}\u27e7`;
    this.values.set(marker, value);
    return marker;
  }

  get size(): number {
    return this.values.size;
  }

  /**
   * `redact` applied to `data` with every string that is exactly a marker left out (an empty string
   * in its place: nothing to redact, nothing learned), then the markers put back. Redaction keeps the
   * shape of the data (keys, array indexes), so their paths still hold.
   */
  guard<T>(data: T, redact: (v: unknown) => unknown): T {
    if (this.values.size === 0) return redact(data) as T;
    const at: [path: (string | number)[], marker: string][] = [];
    const strip = (v: unknown, path: (string | number)[]): unknown => {
      if (typeof v === 'string') {
        if (!this.values.has(v)) return v;
        at.push([path, v]);
        return '';
      }
      if (Array.isArray(v)) return v.map((x, i) => strip(x, [...path, i]));
      if (v && typeof v === 'object')
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, strip(x, [...path, k])]));
      return v;
    };
    let out = redact(strip(data, [])) as any;
    for (const [path, marker] of at) {
      if (path.length === 0) out = marker;
      let cur = out;
      for (const k of path.slice(0, -1)) cur = cur?.[k];
      if (cur && typeof cur === 'object') cur[path[path.length - 1]!] = marker;
    }
    return out as T;
  }

  /** `data` (guarded) with each marker replaced by its value. */
  fill<T>(data: T): T {
    if (this.values.size === 0) return data;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.values.get(v) ?? v;
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object')
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return walk(data) as T;
  }

  /** `scrub` applied to the text between markers; the markers replaced by their values. */
  text(text: string, scrub: (s: string) => string): string {
    if (this.values.size === 0) return scrub(text);
    const parts = text.split(/(\u27e6reveal:[A-Za-z0-9_-]+:\d+\u27e7)/);
    return parts
      .map((part, i) => (i % 2 === 1 ? (this.values.get(part) ?? scrub(part)) : scrub(part)))
      .join('');
  }
}
