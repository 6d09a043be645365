/**
 * Issue 8: with a small maxBytes, `query` showed none of 16 short samples ("the next one alone does
 * not fit") because the text and the structured content share one budget. A budget that holds a
 * few samples must show them, say how many more there are, and give a cursor to the rest.
 */
import { answerBytes } from '@infra-mcp/core';
import { describe, expect, it } from 'vitest';
import { queryTool } from '../src/tools/query.js';

const samples = Array.from({ length: 16 }, (_, i) => ({
  metric: { __name__: 'up', job: 'node', cpu: String(i) },
  value: [1_700_000_000, String(i % 2)],
}));

let calls: [string, string][][] = [];
let result = samples;
const client = {
  config: { timeoutMs: 5000 },
  api: async (_path: string, params: [string, string][]) => {
    calls.push(params);
    return { data: { resultType: 'vector', result }, warnings: [], infos: [] };
  },
};
const ctx = (budget: number) =>
  ({
    client,
    instance: 'default',
    signal: new AbortController().signal,
    budget,
    progress: async () => {},
    secret: () => {},
    log: { debug() {}, info() {}, warn() {}, error() {} },
  }) as unknown as Parameters<typeof queryTool.run>[1];

describe('query under a small budget (issue 8)', () => {
  it('a budget that holds ~4 samples shows some of them, "N more" and a cursor; the cursor pages the rest at the same instant', async () => {
    // room for the answer of 4 samples alone, plus its "N more" line and cursor (~300 bytes)
    result = samples.slice(0, 4);
    const four = await queryTool.run({ query: 'up' }, ctx(16_384));
    const budget = answerBytes(four) + 300;
    result = samples;
    const full = await queryTool.run({ query: 'up' }, ctx(16_384));
    expect(answerBytes(full)).toBeGreaterThan(budget);
    calls = [];
    const first = await queryTool.run({ query: 'up' }, ctx(budget));
    expect(answerBytes(first)).toBeLessThanOrEqual(budget);
    expect(first.data.samples!.length).toBeGreaterThanOrEqual(3);
    expect(first.data.samples!.length).toBeLessThan(16);
    expect(first.text).toContain(`truncated: ${16 - first.data.samples!.length} more samples; pass cursor=`);
    expect(first.text).not.toContain('does not fit');
    expect(first.data.nextCursor).toBeDefined();

    const seen = [...first.data.samples!];
    let cursor = first.data.nextCursor;
    while (cursor) {
      const next = await queryTool.run({ query: 'up', cursor }, ctx(budget));
      expect(answerBytes(next)).toBeLessThanOrEqual(budget);
      seen.push(...next.data.samples!);
      cursor = next.data.nextCursor;
    }
    expect(seen.map((s) => s.labels.cpu)).toEqual(samples.map((s) => s.metric.cpu));
    // pages after the first evaluate at the first page's instant
    const times = calls.map((p) => p.find(([k]) => k === 'time')?.[1]);
    expect(times[0]).toBeUndefined();
    expect(new Set(times.slice(1)).size).toBe(1);
    expect(times[1]).toMatch(/^\d+(\.\d+)?$/);
  });
});
