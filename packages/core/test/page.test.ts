/** Budget fitting and cursors (core's page module): the pure parts; prometheus's tools.test.ts checks them through every tool. */

import { describe, expect, it } from 'vitest';
import {
  answerBytes,
  echo,
  fingerprint,
  fitNotes,
  fitPage,
  type Page,
  pageNotice,
  readCursor,
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
