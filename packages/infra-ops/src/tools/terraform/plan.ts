import { rm } from 'node:fs/promises';
import { listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { dirArg, tool } from '../../terraform/cli.js';
import { makePlan, planArgs } from '../../terraform/planfile.js';
import { countsLine, type PlanSummary, resourceLine } from '../../terraform/summary.js';

export const actionSchema = z.enum([
  'create',
  'update',
  'delete',
  'replace',
  'read',
  'no-op',
  'forget',
  'unknown',
]);
const resourceSchema = z.object({
  address: z.string(),
  action: actionSchema,
  reason: z.string().optional(),
  movedFrom: z.string().optional(),
});
export const summarySchema = z.object({
  counts: z.object({
    add: z.number(),
    change: z.number(),
    destroy: z.number(),
    replace: z.number(),
    read: z.number(),
    noop: z.number(),
  }),
  resources: z.array(resourceSchema).describe('Resources that change (no-ops counted only)'),
  drift: z.array(resourceSchema).describe('Changes made outside terraform'),
  outputs: z.array(z.object({ name: z.string(), action: actionSchema })),
  destructive: z.boolean().describe('Applying would delete or replace something'),
  terraformVersion: z.string().optional(),
});

/** The summary as shown: no-op resources left out unless moved. */
export function shown(s: PlanSummary): PlanSummary {
  return { ...s, resources: s.resources.filter((r) => r.action !== 'no-op' || r.movedFrom) };
}

export const LEGEND = 'legend: + create, ~ update, - delete, -/+ replace, <= read';

export function summaryText(s: PlanSummary): string {
  return [
    `plan: ${countsLine(s)}`,
    ...(shown(s).resources.length ? [LEGEND] : []),
    ...shown(s).resources.map(resourceLine),
    ...tailLines(s),
  ].join('\n');
}

/** Drift and outputs, after the resources. */
function tailLines(s: PlanSummary): string[] {
  return [
    ...(s.drift.length ? ['drift (changed outside terraform):', ...s.drift.map(resourceLine)] : []),
    ...(s.outputs.length ? [`outputs: ${s.outputs.map((o) => `${o.name} (${o.action})`).join(', ')}`] : []),
  ];
}

export const planTool = tool({
  name: 'plan',
  title: 'Terraform plan',
  description:
    'Plan a configuration and summarise it: counts, each resource with its action, drift. Changes nothing; terraform_apply previews and applies.',
  input: listInput({ dir: dirArg, ...planArgs }),
  output: listOutput(summarySchema.shape),
  effect: 'read',
  timeoutMs: 600_000,
  run: async (args, ctx) => {
    // a long plan is paged; each page plans again (the cursor is bound to the arguments)
    const list = pager('terraform_plan', ctx, args);
    const p = await makePlan(ctx, args);
    await rm(p.file, { force: true });
    const s = shown(p.summary);
    return list.page({
      items: s.resources,
      line: resourceLine,
      what: 'resources',
      narrow: 'targets',
      data: (page) => ({ ...s, resources: page.items }),
      text: (page, range) => [
        `plan: ${countsLine(s)}${range}`,
        page.items.length > 0 && LEGEND,
        ...page.items.map(resourceLine),
        ...tailLines(s),
      ],
    });
  },
});
