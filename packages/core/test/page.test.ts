/** Budget fitting and cursors (core's page module): the pure parts; prometheus's tools.test.ts checks them through every tool. */

import { describe, expect, it } from 'vitest';
import {
  answerBytes,
  checkAnswer,
  echo,
  fingerprint,
  fitAnswer,
  fitNotes,
  fitPage,
  fitTail,
  type Page,
  pageNotice,
  pager,
  readCursor,
  tailBytes,
} from '../src/page.js';

const bytes = (s: string) => Buffer.byteLength(s);

describe('echo', () => {
  it('keeps a short query whole', () => {
    expect(echo('up', 16384)).toEqual({ text: 'up', abbreviated: false, bytes: 2 });
  });

  it('abbreviates a long one to a sixteenth of the budget, saying its size', () => {
    const query = Array.from({ length: 200 }, (_, i) => `up{job="j${i}"}`).join(' or ');
    const e = echo(query, 4096);
    expect(e.abbreviated).toBe(true);
    expect(e.bytes).toBe(bytes(query));
    expect(bytes(e.text)).toBeLessThanOrEqual(256);
    expect(e.text.startsWith('up{job="j0"} or up{job="j1"}')).toBe(true);
    expect(e.text).toMatch(new RegExp(`… \\(query: ${bytes(query)} bytes in all\\)$`));
  });

  it('cuts on a character boundary', () => {
    const e = echo('é'.repeat(1000), 2048);
    expect(e.text).not.toContain('\uFFFD');
    expect(bytes(e.text)).toBeLessThanOrEqual(128);
  });
});

describe('fitNotes', () => {
  it('keeps warnings and infos within a quarter of the budget and counts the rest', () => {
    const warnings = Array.from({ length: 100 }, (_, i) => `warning ${i}: ${'x'.repeat(300)}`);
    const notes = fitNotes(warnings, ['an info'], 4096);
    expect(notes.omitted).toBeGreaterThan(90);
    expect(notes.kept.length + notes.omitted).toBe(101);
    const size = bytes(JSON.stringify(notes.kept)) + bytes(notes.lines.join('\n'));
    expect(size).toBeLessThanOrEqual(1024 + 100);
    expect(notes.lines.at(-1)).toBe(
      `(${notes.omitted} more warnings/infos left out; raise maxBytes to see them)`,
    );
    expect(notes.lines[0]).toMatch(/^warning: warning 0: x+…$/); // clipped to a sixteenth
  });

  it('keeps everything when there is room', () => {
    expect(fitNotes(['w'], ['i'], 16384)).toEqual({
      kept: ['w', 'i'],
      lines: ['warning: w', 'info: i'],
      omitted: 0,
    });
  });
});

describe('fitPage', () => {
  const items = Array.from({ length: 500 }, (_, i) => ({ name: `item-${i}`, value: i * 1.5 }));
  const build = (header: string) => (page: Page<(typeof items)[number]>) => ({
    data: {
      header,
      total: page.total,
      omitted: page.omitted,
      items: page.items,
      nextCursor: page.nextCursor,
    },
    text: [
      header,
      ...page.items.map((x) => `${x.name.padEnd(12)}  ${x.value}`),
      ...pageNotice(page, 'items', 'a filter'),
    ].join('\n'),
  });

  it.each([512, 1000, 2048, 4096, 16384])(
    'the whole answer (structured + text, fixed parts included) fits %i bytes',
    (budget) => {
      for (const header of ['short', 'h'.repeat(Math.floor(budget / 4))]) {
        const r = fitPage({ items, budget, line: (x) => x.name, build: build(header), fingerprint: 'f' });
        expect(answerBytes(r)).toBeLessThanOrEqual(budget);
        expect(bytes(JSON.stringify(r.data))).toBeLessThanOrEqual(budget);
        expect(r.page.items.length + r.page.omitted).toBe(items.length);
      }
    },
  );

  it('a big fixed part leaves room for fewer rows', () => {
    const small = fitPage({ items, budget: 4096, line: (x) => x.name, build: build('x') });
    const big = fitPage({ items, budget: 4096, line: (x) => x.name, build: build('x'.repeat(1000)) });
    expect(big.page.items.length).toBeLessThan(small.page.items.length * 0.6);
    expect(answerBytes(big)).toBeLessThanOrEqual(4096);
  });

  it('pages from an offset, with a cursor to the next one', () => {
    const r = fitPage({
      items,
      budget: 2048,
      line: (x) => x.name,
      build: build('x'),
      offset: 100,
      fingerprint: 'f0',
    });
    expect(r.page.items[0]!.name).toBe('item-100');
    expect(readCursor(r.page.nextCursor, 'f0')).toBe(100 + r.page.items.length);
    expect(r.text).toContain(`pass cursor=${r.page.nextCursor} for the next page, or narrow with a filter`);
  });

  it('an item larger than the budget gives an empty page that says so', () => {
    const huge = [{ name: 'x'.repeat(5000), value: 1 }];
    const r = fitPage({ items: huge, budget: 1024, line: (x) => x.name, build: build('x') });
    expect(r.page.items).toEqual([]);
    expect(r.text).toContain('truncated: 1 more items; the next one alone does not fit in maxBytes=1024');
    expect(answerBytes(r)).toBeLessThanOrEqual(1024);
  });
});

describe('cursors', () => {
  const fp = fingerprint('series', 'main', { match: ['up'], start: '-1h', maxBytes: 512 });

  it('the fingerprint ignores cursor and maxBytes, not the other arguments', () => {
    expect(fingerprint('series', 'main', { match: ['up'], start: '-1h', cursor: 'abc' })).toBe(fp);
    expect(fingerprint('series', 'main', { start: '-1h', match: ['up'] })).toBe(fp);
    expect(fingerprint('series', 'main', { match: ['up'], start: '-2h' })).not.toBe(fp);
    expect(fingerprint('series', 'other', { match: ['up'], start: '-1h' })).not.toBe(fp);
    expect(fingerprint('labels', 'main', { match: ['up'], start: '-1h' })).not.toBe(fp);
  });

  it('reads the offset back', () => {
    expect(readCursor(undefined, fp)).toBe(0);
    expect(readCursor(`40.${fp}`, fp)).toBe(40);
  });

  it.each([
    ['not a cursor', 'cursor is not one this tool returned'],
    ['-1.abc', 'cursor is not one this tool returned'],
    ['x.abc', 'cursor is not one this tool returned'],
    ['.abc', 'cursor is not one this tool returned'],
    ['10.abc.!!.??', 'cursor is not one this tool returned'],
    ['10.abcdef', 'cursor was returned for other arguments'],
  ])('refuses %j with bad_cursor', (cursor, message) => {
    let caught: any;
    try {
      readCursor(cursor, fp);
    } catch (err) {
      caught = err;
    }
    expect(caught?.code).toBe('bad_cursor');
    expect(caught.message).toContain(message);
    expect(caught.hint).toMatch(/omit cursor/);
  });
});

describe('list tools over a paged backend (pager)', () => {
  // A backend that pages like Kubernetes: `limit`, and an opaque `continue` token to the next chunk.
  const names = Array.from({ length: 23 }, (_, i) => `pod-${String(i).padStart(2, '0')}`);
  const fetched: (string | undefined)[] = [];
  const backend = (token: string | undefined, limit = 10) => {
    fetched.push(token);
    const start = token ? Number(Buffer.from(token, 'base64').toString().slice(4)) : 0;
    const items = names.slice(start, start + limit);
    const end = start + items.length;
    return {
      items,
      continue: end < names.length ? Buffer.from(`pos:${end}`).toString('base64') : undefined,
      remainingItemCount: names.length - end,
    };
  };
  const call = (args: { cursor?: string; namespace: string }, budget: number) => {
    const list = pager('pods', { instance: 'dev', budget }, args);
    const r = backend(list.token);
    return list.page({
      items: r.items,
      next: r.continue,
      remaining: r.remainingItemCount,
      line: (n) => n,
      what: 'pods',
      narrow: 'a label selector',
      data: (page) => ({ pods: page.items }),
      text: (page, range) => [`pods in ${args.namespace}${range}`, ...page.items],
    });
  };

  it('chains backend pages through core cursors, splitting a backend page when the budget is small', () => {
    fetched.length = 0;
    const seen: string[] = [];
    let cursor: string | undefined;
    let calls = 0;
    do {
      const r = call({ namespace: 'default', ...(cursor ? { cursor } : {}) }, 300);
      expect(answerBytes(r)).toBeLessThanOrEqual(300);
      expect(r.data.pods.length).toBeGreaterThan(0);
      seen.push(...r.data.pods);
      cursor = r.data.nextCursor;
      if (cursor) {
        expect(r.truncated).toBe(true);
        expect(r.text).toContain(`cursor=${cursor}`);
        // what is left: the rest of this backend page plus what the backend says remains
        expect(r.data.omitted).toBe(names.length - seen.length);
      }
      calls++;
    } while (cursor && calls < 50);
    expect(seen).toEqual(names);
    // every backend page was fetched with the token the backend gave: never skipped, never invented
    const tokens = [...new Set(fetched)];
    expect(tokens).toEqual([
      undefined,
      Buffer.from('pos:10').toString('base64'),
      Buffer.from('pos:20').toString('base64'),
    ]);
    expect(calls).toBeGreaterThan(3); // a 300-byte budget holds less than a backend page of 10
  });

  it('a budget that holds a whole backend page moves to the next backend page', () => {
    const first = call({ namespace: 'default' }, 16_384);
    expect(first.data.pods).toEqual(names.slice(0, 10));
    expect(first.data.omitted).toBe(13);
    const second = call({ namespace: 'default', cursor: first.data.nextCursor }, 16_384);
    expect(second.data.pods).toEqual(names.slice(10, 20));
    const third = call({ namespace: 'default', cursor: second.data.nextCursor }, 16_384);
    expect(third.data.pods).toEqual(names.slice(20));
    expect(third.data.nextCursor).toBeUndefined();
    expect(third.truncated).toBe(false);
  });

  it('a cursor is bound to its arguments', () => {
    const first = call({ namespace: 'default' }, 16_384);
    expect(() => call({ namespace: 'kube-system', cursor: first.data.nextCursor }, 16_384)).toThrow(
      /cursor was returned for other arguments/,
    );
  });
});

describe('fitTail (logs: the newest kept)', () => {
  const lines = Array.from(
    { length: 200 },
    (_, i) => `2026-01-01T00:00:${String(i).padStart(3, '0')} line ${i}`,
  );
  const build = (page: Page<string>) => ({
    data: { lines: page.items, omitted: page.omitted },
    text: [...page.items, ...pageNotice(page, 'lines', 'sinceSeconds or a container')].join('\n'),
  });

  it('keeps the last lines that fit, in order, and says how many older ones were left out', () => {
    const r = fitTail({ items: lines, budget: 1024, line: (l) => l, build });
    expect(answerBytes(r)).toBeLessThanOrEqual(1024);
    expect(r.page.items.length).toBeGreaterThan(3);
    expect(r.page.items.at(-1)).toBe(lines.at(-1));
    expect(r.page.items).toEqual(lines.slice(lines.length - r.page.items.length));
    expect(r.page.omitted).toBe(lines.length - r.page.items.length);
    expect(r.text).toContain(`truncated: ${r.page.omitted} older lines left out (newest kept)`);
    expect(r.page.nextCursor).toBeUndefined();
  });

  it('keeps everything when it fits', () => {
    const r = fitTail({ items: lines.slice(0, 3), budget: 16_384, line: (l) => l, build });
    expect(r.page.items).toEqual(lines.slice(0, 3));
    expect(r.text).not.toContain('truncated');
  });

  it('tailBytes keeps the end of a long line on a character boundary', () => {
    expect(tailBytes('héllo wörld', 6)).toBe('wörld');
    expect(tailBytes('short', 100)).toBe('short');
  });
});

describe('the budget: structured JSON plus text', () => {
  it('answerBytes counts both, in UTF-8 bytes', () => {
    expect(answerBytes({ data: { a: 'é' }, text: 'é' })).toBe(Buffer.byteLength('{"a":"é"}') + 2);
  });

  it('checkAnswer refuses an answer whose JSON fits but JSON plus text does not', () => {
    const data = { v: 'x'.repeat(600) };
    expect(() => checkAnswer('t', { data, text: 'y'.repeat(400) }, 1000)).toThrow(/needs \d+ bytes/);
    expect(() => checkAnswer('t', { data, text: 'y'.repeat(400) }, 1024)).not.toThrow();
  });

  it('fitAnswer cuts the text to what the JSON leaves, or refuses when the JSON alone is over', () => {
    const data = { v: 'x'.repeat(500) };
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const r = fitAnswer('t', data, text, 1024);
    expect(r.truncated).toBe(true);
    expect(answerBytes({ data, text: r.text })).toBeLessThanOrEqual(1024);
    expect(r.text).toMatch(/truncated: \d+ more lines/);
    expect(fitAnswer('t', data, 'short', 1024)).toEqual({ text: 'short', truncated: false });
    expect(() => fitAnswer('t', { v: 'x'.repeat(2000) }, '', 1024)).toThrow(
      /\d+ bytes of structured data, over the 1024-byte budget/,
    );
  });
});
