import { humanDuration, listInput, listOutput, pager, table } from '@infra-mcp/core';
import { z } from 'zod';
import { formatLabels, type Labels, num, parseValue } from '../summarize.js';
import { contains, tool } from './common.js';

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

export const alertsTool = tool({
  name: 'alerts',
  title: 'Active alerts',
  description:
    'Active alerts (firing and pending) with labels, summary and age. Filter by state, name and labels.',
  input: listInput({
    state: z.enum(['any', 'firing', 'pending']).default('any'),
    name: z.string().optional().describe('Alert name: case-insensitive substring'),
    labels: z
      .record(z.string(), z.string())
      .optional()
      .describe('Required label values, e.g. {"severity": "critical"}'),
  }),
  output: listOutput({
    counts: z.record(z.string(), z.number()).describe('Active alerts per state (before filters)'),
    total: z.number(),
    alerts: z.array(alert),
  }),
  effect: 'read',
  toolset: 'status',
  run: async (args, ctx) => {
    const list = pager('alerts', ctx, args);
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
    return list.page({
      items: all,
      line: (a) => cells(a).join('  '),
      what: 'alerts',
      narrow: 'state, name or labels',
      data: (page) => ({
        counts,
        total: all.length,
        alerts: page.items,
      }),
      text: (page, range) => [
        `${raw.length} active alerts${summary ? `: ${summary}` : ''}${all.length !== raw.length ? ` (${all.length} match the filters)` : ''}${range}`,
        page.items.length > 0 &&
          table(['alert', 'state', 'for', 'value', 'labels', 'summary'], page.items.map(cells)),
      ],
    });
  },
});
