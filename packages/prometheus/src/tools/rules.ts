import { humanDuration, listInput, listOutput, pager, table } from '@infra-mcp/core';
import { z } from 'zod';
import { contains, tool } from './common.js';

const rule = z.object({
  group: z.string(),
  name: z.string(),
  type: z.enum(['alert', 'record']),
  query: z.string(),
  health: z.string().describe('ok, err or unknown'),
  state: z.string().optional().describe('Alerting rules: firing, pending or inactive'),
  for: z.number().optional().describe('Alerting rules: seconds the condition must hold'),
  activeAlerts: z.number().optional(),
  lastError: z.string().optional(),
  lastEvaluationAgo: z.number().nullable().describe('Seconds'),
  evaluationTime: z.number().nullable().describe('Seconds'),
});
type Rule = z.infer<typeof rule>;

export const rulesTool = tool({
  name: 'rules',
  title: 'Alerting and recording rules',
  description:
    'Alerting and recording rules with their PromQL, health and state. Filter by type, name, group, state or health.',
  input: listInput({
    type: z.enum(['any', 'alert', 'record']).default('any'),
    name: z.string().optional().describe('Rule name: case-insensitive substring'),
    group: z.string().optional().describe('Group name: case-insensitive substring'),
    state: z
      .enum(['any', 'firing', 'pending', 'inactive'])
      .default('any')
      .describe('Alerting rules in this state'),
    health: z.enum(['any', 'ok', 'err', 'unknown']).default('any'),
  }),
  output: listOutput({
    groups: z.number(),
    total: z.number().describe('Rules after filters'),
    rules: z.array(rule),
  }),
  effect: 'read',
  toolset: 'status',
  run: async (args, ctx) => {
    const list = pager('rules', ctx, args);
    const params: [string, string][] = args.type === 'any' ? [] : [['type', args.type]];
    const r = await ctx.client.api<{ groups: { name: string; file?: string; rules: any[] }[] }>(
      'api/v1/rules',
      params,
      { signal: ctx.signal },
    );
    const now = Date.now();
    const groups = r.data.groups ?? [];
    const all: Rule[] = [];
    for (const g of groups) {
      if (!contains(g.name, args.group)) continue;
      for (const x of g.rules ?? []) {
        const type = x.type === 'alerting' ? 'alert' : 'record';
        if (args.type !== 'any' && type !== args.type) continue;
        if (!contains(String(x.name), args.name)) continue;
        if (args.state !== 'any' && (type !== 'alert' || x.state !== args.state)) continue;
        if (args.health !== 'any' && x.health !== args.health) continue;
        const last = x.lastEvaluation ? Date.parse(x.lastEvaluation) : Number.NaN;
        const row: Rule = {
          group: g.name,
          name: String(x.name),
          type,
          query: String(x.query),
          health: String(x.health ?? 'unknown'),
          lastEvaluationAgo: Number.isFinite(last) && last > 0 ? Math.max(0, (now - last) / 1000) : null,
          evaluationTime: typeof x.evaluationTime === 'number' ? x.evaluationTime : null,
        };
        if (type === 'alert') {
          row.state = x.state;
          row.for = Number(x.duration ?? 0);
          row.activeAlerts = (x.alerts ?? []).length;
        }
        if (x.lastError) row.lastError = x.lastError;
        all.push(row);
      }
    }
    const cells = (x: Rule) => [
      x.group,
      x.name,
      x.type,
      x.type === 'alert' ? `${x.state}${x.activeAlerts ? ` (${x.activeAlerts})` : ''}` : '',
      x.for ? humanDuration(x.for) : '',
      x.lastError ? `${x.health}: ${x.lastError}` : x.health,
      x.query.replace(/\s+/g, ' '),
    ];
    return list.page({
      items: all,
      line: (x) => cells(x).join('  '),
      what: 'rules',
      narrow: 'type, name, group or state',
      data: (page) => ({
        groups: groups.length,
        total: all.length,
        rules: page.items,
      }),
      text: (page, range) => [
        `${all.length} rules in ${groups.length} groups${range}`,
        page.items.length > 0 &&
          table(['group', 'rule', 'type', 'state', 'for', 'health', 'query'], page.items.map(cells)),
      ],
    });
  },
});
