import { describe, expect, it } from 'vitest';
import {
  decodeCursor,
  encodeCursor,
  fitToBudget,
  humanBytes,
  humanDuration,
  humanNumber,
  redact,
  table,
  truncateText,
} from '../src/index.js';

describe('output shaping', () => {
  it('aligns tables', () => {
    expect(
      table(
        ['NAME', 'STATE'],
        [
          ['api', 'up'],
          ['database', null],
        ],
      ),
    ).toBe('NAME      STATE\napi       up\ndatabase  -');
  });

  it('renders human units', () => {
    expect([humanBytes(512), humanBytes(1536), humanBytes(5 * 1024 ** 3)]).toEqual([
      '512B',
      '1.5KiB',
      '5.0GiB',
    ]);
    expect([humanDuration(0.25), humanDuration(59), humanDuration(90061)]).toEqual([
      '250ms',
      '59s',
      '1d1h1m1s',
    ]);
    expect([humanNumber(1234567), humanNumber(0.000123456), humanNumber(12.3456)]).toEqual([
      '1.23M',
      '0.000123',
      '12.35',
    ]);
  });

  it('fits lists to a budget and says how many were left out', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ i, pad: 'x'.repeat(20) }));
    const { items: kept, omitted } = fitToBudget(items, 500);
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length + omitted).toBe(100);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(500);
  });

  it('truncates text on line boundaries with a notice', () => {
    const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
    const r = truncateText(text, 300, 'a smaller range');
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(300);
    expect(r.text).toMatch(/\ntruncated: \d+ more lines; narrow with a smaller range$/);
  });

  it('round-trips cursors and rejects garbage with a clear message', () => {
    expect(decodeCursor(encodeCursor({ offset: 20 }))).toEqual({ offset: 20 });
    expect(() => decodeCursor('!!!')).toThrow(/invalid cursor: pass the cursor exactly as returned/);
  });
});

describe('redaction', () => {
  it('removes credential-looking keys, URL passwords, token params, bearer values and keys', () => {
    const out = redact({
      password: 'p1',
      nested: { apiKey: 'k', Authorization: 'Bearer abcdefghijkl', name: 'ok' },
      url: 'https://admin:s3cret@db.local/x?token=abc123&q=1',
      note: 'used AKIAIOSFODNN7EXAMPLE and Bearer eyJhbGciOiJIUzI1NiJ9.payload',
      count: 3,
    });
    expect(out).toEqual({
      password: '[REDACTED]',
      nested: { apiKey: '[REDACTED]', Authorization: '[REDACTED]', name: 'ok' },
      url: 'https://admin:[REDACTED]@db.local/x?token=[REDACTED]&q=1',
      note: 'used [REDACTED] and Bearer [REDACTED]',
      count: 3,
    });
  });

  it('removes configured secret values wherever they appear', () => {
    expect(redact({ msg: 'login with hunter22 failed' }, ['hunter22'])).toEqual({
      msg: 'login with [REDACTED] failed',
    });
  });
});
