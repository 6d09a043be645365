import { defineTool, humanDuration, maxBytesArg, table } from '@infra-mcp/core';
import { z } from 'zod';
import { formatLabels, type Labels, num, parseValue } from '../summarize.js';
import { type Ctx, contains, render } from './common.js';
import {
  cursorArg,
  fingerprint,
  fitPage,
  nextCursorSchema,
  offsetSchema,
  pageFields,
  pageNotice,
  pageRange,
  readCursor,
} from './fit.js';

const alert = z.object({
  name: z.string(),
  state: z.string().describe('firing or pending'),
  activeAt: z.string().nullable(),
  age: z.number().nullable().describe('Seconds since it became active'),
  value: z.number().nullable(),
  labels: z.record(z.string(), z.string()).describe('Labels besides alertname'),
  summary: z.string().optional().describe('summary (or description) annotation'),
  annotations: z.record(z.string(), z.string()).optional().describe('Other annotations'),
});
type Alert = z.infer<typeof alert>;

export const alertsTool = defineTool({
  name: 'alerts',
  title: 'Active alerts',
  description:
    'Active alerts (firing and pending) with labels, summary and age. Filter by state, name and labels.',
  input: z.object({
    state: z.enum(['any', 'firing', 'pending']).default('any'),
    name: z.string().optional().describe('Alert name: case-insensitive substring'),
    labels: z
      .record(z.string(), z.string())
      .optional()
      .describe('Required label values, e.g. {"severity": "critical"}'),
    cursor: cursorArg,
    maxBytes: maxBytesArg,
  }),
  output: z.object({
    counts: z.record(z.string(), z.number()).describe('Active alerts per state (before filters)'),
    total: z.number(),
    omitted: z.number().describe('Alerts after this page'),
    alerts: z.array(alert),
    offset: offsetSchema,
    nextCursor: nextCursorSchema,
    truncated: z.boolean(),
  }),
  effect: 'read',
  run: async (args, ctx: Ctx) => {
    const fp = fingerprint('alerts', ctx.instance, args);
    const offset = readCursor(args.cursor, fp);
    const r = await ctx.client.api<{
      alerts: { labels: Labels; annotations?: Labels; state: string; activeAt?: string; value?: string }[];
    }>('api/v1/alerts', [], { signal: ctx.signal });
    const now = Date.now();
    const raw = r.data.alerts ?? [];
    const counts: Record<string, number> = {};
    for (const a of raw) counts[a.state] = (counts[a.state] ?? 0) + 1;
    const all: Alert[] = raw
      .filter(
        (a) =>
          (args.state === 'any' || a.state === args.state) &&
          contains(a.labels.alertname ?? '', args.name) &&
          Object.entries(args.labels ?? {}).every(([k, v]) => a.labels[k] === v),
      )
      .map((a) => {
        const { alertname, ...labels } = a.labels;
        const { summary, description, ...annotations } = a.annotations ?? {};
        const active = a.activeAt ? Date.parse(a.activeAt) : Number.NaN;
        const value = a.value === undefined ? Number.NaN : parseValue(a.value);
        const row: Alert = {
          name: alertname ?? '',
          state: a.state,
          activeAt: a.activeAt ?? null,
          age: Number.isFinite(active) ? Math.max(0, (now - active) / 1000) : null,
          value: Number.isFinite(value) ? value : null,
          labels,
        };
        const text = summary ?? description;
        if (text) row.summary = text;
        const rest = summary && description ? { description, ...annotations } : annotations;
        if (Object.keys(rest).length) row.annotations = rest;
        return row;
      })
      .sort(
        (a, b) =>
          Number(a.state !== 'firing') - Number(b.state !== 'firing') ||
          (b.age ?? 0) - (a.age ?? 0) ||
          a.name.localeCompare(b.name) ||
          formatLabels(a.labels).localeCompare(formatLabels(b.labels)),
      );
    const cells = (a: Alert) => [
      a.name,
      a.state,
      a.age === null ? '-' : humanDuration(a.age),
      num(a.value),
      formatLabels(a.labels),
      a.summary,
    ];
    const summary = Object.entries(counts)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    const { data, text } = fitPage({
      items: all,
      budget: ctx.budget,
      fingerprint: fp,
      offset,
      line: (a) => cells(a).join('  '),
      build: (page) => ({
        data: {
          counts,
          total: all.length,
          omitted: page.omitted,
          alerts: page.items,
          ...pageFields(page),
          truncated: page.omitted > 0,
        },
        text: render([
          `${raw.length} active alerts${summary ? `: ${summary}` : ''}${all.length !== raw.length ? ` (${all.length} match the filters)` : ''}${pageRange(page)}`,
          page.items.length > 0 &&
            table(['alert', 'state', 'for', 'value', 'labels', 'summary'], page.items.map(cells)),
          ...pageNotice(page, 'alerts', 'state, name or labels'),
        ]),
      }),
    });
    return { data, text, truncated: data.truncated };
  },
});
