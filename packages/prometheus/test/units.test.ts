/** Time parsing, step selection and series summaries: the pure parts. */
import { ConfigError, resolvePluginConfig } from '@infra-mcp/core';
import { describe, expect, it } from 'vitest';
import { prometheus } from '../src/index.js';
import { commonLabels, formatLabels, parseValue, sparkline, summarizeSeries } from '../src/summarize.js';
import { formatDuration, niceStep, parseDuration, parseTime, resolveRange } from '../src/time.js';

const NOW = 1_714_564_800; // 2024-05-01T12:00:00Z

describe('parseTime', () => {
  it.each([
    ['now', NOW],
    ['NOW', NOW],
    ['now-1h', NOW - 3600],
    ['now - 90s', NOW - 90],
    ['now+5m', NOW + 300],
    ['-30m', NOW - 1800],
    ['-1h30m', NOW - 5400],
    ['-2d', NOW - 172800],
    ['1714564800', NOW],
    ['1714564800.5', NOW + 0.5],
    ['2024-05-01T12:00:00Z', NOW],
    ['2024-05-01T14:00:00+02:00', NOW],
    ['2024-05-01T12:00:00.250Z', NOW + 0.25],
    ['2024-05-01 12:00:00', NOW],
    ['2024-05-01', NOW - 43200],
  ])('%s', (input, expected) => {
    expect(parseTime(input, NOW)).toBe(expected);
  });

  it('accepts numbers as unix seconds', () => {
    expect(parseTime(NOW, NOW)).toBe(NOW);
  });

  it.each([
    ['', /is empty/],
    ['yesterday', /not a time I can read/],
    ['now-1', /unreadable duration/],
    ['now-1x', /unreadable duration/],
    ['+5m', /not a time I can read/],
    ['2024-02-30T00:00:00Z', /not a valid date/],
    ['1714564800000', /milliseconds/],
  ])('refuses %j', (input, message) => {
    expect(() => parseTime(input, NOW, 'start')).toThrow(message);
    try {
      parseTime(input, NOW, 'start');
    } catch (err: any) {
      expect(err.code).toBe('bad_time');
      expect(err.hint).toContain('RFC 3339');
    }
  });
});

describe('unix seconds before 2000', () => {
  it.each([
    [2024, /time "2024" looks like a year, not unix seconds; write a date, e.g. "2024-01-01T00:00:00Z"/],
    ['2024', /time "2024" looks like a year, not unix seconds; write a date, e.g. "2024-01-01T00:00:00Z"/],
    [' 1999 ', /looks like a year/],
    [
      86400,
      /is unix second 86400 \(1970-01-02T00:00:00\.000Z\), before 2000; write a date, e.g. "2024-05-01T12:00:00Z"/,
    ],
    [0, /before 2000/],
    [946684799, /before 2000/],
  ])('refuses %j with bad_time', (input, message) => {
    let caught: any;
    try {
      parseTime(input, NOW, 'time');
    } catch (err) {
      caught = err;
    }
    expect(caught?.code).toBe('bad_time');
    expect(caught.message).toMatch(message);
    expect(caught.hint).toContain('RFC 3339 (2024-05-01T12:00:00Z)');
  });

  it('keeps real unix seconds, from 2000-01-01 on', () => {
    expect(parseTime(946684800, NOW)).toBe(946684800);
    expect(parseTime('946684800', NOW)).toBe(946684800);
    expect(parseTime(1714564800.25, NOW)).toBe(1714564800.25);
    expect(parseTime('2024-01-01', NOW)).toBe(1704067200);
  });

  it('a range with a year as start is refused, not read as 1970', () => {
    expect(() => resolveRange({ start: 2024, end: NOW }, { now: NOW, maxRange: 86400 })).toThrow(
      /looks like a year/,
    );
  });
});

describe('config: maxRange', () => {
  it.each(['31days', 'a month', '0d', '', '-1d', '1h 30m'])('refuses maxRange %j at config time', (value) => {
    expect(() =>
      resolvePluginConfig(prometheus({ url: 'http://127.0.0.1:9', maxRange: value }), { env: {} }),
    ).toThrow(ConfigError);
    expect(() =>
      resolvePluginConfig(prometheus({ url: 'http://127.0.0.1:9', maxRange: value }), { env: {} }),
    ).toThrow(
      /"plugins\.prometheus\.maxRange": maxRange must be a Prometheus duration: a number and a unit \(ms, s, m, h, d, w, y\), e\.g\. 31d, 12h/,
    );
  });

  it('names the instance whose maxRange is wrong', () => {
    expect(() =>
      resolvePluginConfig(prometheus(), {
        file: { instances: { prod: { url: 'http://127.0.0.1:9', maxRange: '2 weeks' } } },
        fileName: 'infra-mcp.yaml',
        env: {},
      }),
    ).toThrow(/infra-mcp\.yaml: "plugins\.prometheus\.instances\.prod\.maxRange": maxRange must be/);
  });

  it.each([
    ['31d', '31d'],
    ['12h', '12h'],
    ['1w2d', '1w2d'],
    [undefined, '31d'],
  ])('accepts %j', (value, expected) => {
    const r = resolvePluginConfig(
      prometheus({ url: 'http://127.0.0.1:9', ...(value === undefined ? {} : { maxRange: value }) }),
      { env: {} },
    );
    expect(r.instances.default!.maxRange).toBe(expected);
  });
});

describe('durations and steps', () => {
  it('parses Prometheus durations and plain seconds', () => {
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(parseDuration('15')).toBe(15);
    expect(parseDuration(15)).toBe(15);
    expect(parseDuration('1w')).toBe(604800);
    expect(parseDuration('fast')).toBeUndefined();
    expect(parseDuration('1h 30m')).toBeUndefined();
  });

  it('formats durations', () => {
    expect(formatDuration(15)).toBe('15s');
    expect(formatDuration(90)).toBe('1m30s');
    expect(formatDuration(0.5)).toBe('500ms');
  });

  it('rounds steps up to readable values', () => {
    expect(niceStep(0.2)).toBe(1);
    expect(niceStep(14.4)).toBe(15);
    expect(niceStep(16)).toBe(30);
    expect(niceStep(345.6)).toBe(600);
    expect(niceStep(3 * 86400 + 1)).toBe(4 * 86400);
  });

  it('auto step keeps at most ~250 points', () => {
    for (const range of [60, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400]) {
      const r = resolveRange({ start: NOW - range, end: NOW }, { now: NOW, maxRange: 31 * 86400 });
      expect(r.autoStep).toBe(true);
      expect(r.points).toBeLessThanOrEqual(251);
      expect(r.points).toBeGreaterThan(range >= 3600 ? 100 : 50);
    }
  });

  it('defaults: end now, start one hour before end', () => {
    expect(resolveRange({}, { now: NOW, maxRange: 86400 })).toMatchObject({
      start: NOW - 3600,
      end: NOW,
      step: 15,
      points: 241,
    });
    expect(resolveRange({ end: 'now-1h' }, { now: NOW, maxRange: 86400 })).toMatchObject({
      start: NOW - 7200,
      end: NOW - 3600,
    });
  });

  it('start equal to end is one point', () => {
    expect(resolveRange({ start: NOW, end: NOW, step: 10 }, { now: NOW, maxRange: 86400 }).points).toBe(1);
  });
});

describe('summaries', () => {
  const values: [number, string][] = [
    [100, '1'],
    [110, '3'],
    [120, 'NaN'],
    [130, '2'],
    [140, '+Inf'],
    [150, '0.5'],
  ];

  it('parses special values', () => {
    expect(parseValue('+Inf')).toBe(Number.POSITIVE_INFINITY);
    expect(parseValue('-Inf')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseValue('NaN')).toBeNaN();
    expect(parseValue('1e-3')).toBe(0.001);
  });

  it('summarises one series over finite samples, counting the others', () => {
    const s = summarizeSeries(
      { metric: { __name__: 'x', job: 'a', cpu: '0' }, values },
      { __name__: 'x', job: 'a' },
      100,
      160,
      6,
    );
    expect(s).toEqual({
      labels: { cpu: '0' },
      points: 6,
      first: 1,
      last: 0.5,
      min: 0.5,
      max: 3,
      avg: 1.625,
      shape: '▂█ ▅ ▁',
      nonFinite: 2,
    });
  });

  it('a series with no finite value has null statistics', () => {
    const s = summarizeSeries({ metric: {}, values: [[1, 'NaN']] }, {}, 0, 2);
    expect(s).toMatchObject({ first: null, last: null, min: null, max: null, avg: null, shape: '' });
  });

  it('sparkline: a flat series is a flat line', () => {
    expect(
      sparkline(
        [
          [0, '5'],
          [1, '5'],
          [2, '5'],
        ],
        0,
        3,
        3,
        5,
        5,
      ),
    ).toBe('▄▄▄');
  });

  it('common labels are factored out only when shared by every series', () => {
    expect(
      commonLabels([
        { a: '1', b: '2' },
        { a: '1', b: '3' },
      ]),
    ).toEqual({ a: '1' });
    expect(commonLabels([{ a: '1' }])).toEqual({});
  });

  it('formats labels like PromQL', () => {
    expect(formatLabels({ __name__: 'up', job: 'node' })).toBe('up{job="node"}');
    expect(formatLabels({ __name__: 'up' })).toBe('up');
    expect(formatLabels({ path: 'a"b' })).toBe('{path="a\\"b"}');
  });
});
