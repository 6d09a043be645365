import type { PromptDefinition } from '@infra-mcp/core';
import { z } from 'zod';

/** Prompts that chain the tools for common jobs. */
export const prompts: PromptDefinition[] = [
  {
    name: 'investigate_alert',
    title: 'Investigate a firing alert',
    description: 'Walk from a firing alert to its rule, the data behind it and the likely cause.',
    args: z.object({
      alert: z.string().describe('Alert name (alertname label)'),
      instance: z.string().optional().describe('Prometheus instance, when several are configured'),
    }),
    render: ({ alert, instance }) => [
      {
        role: 'user',
        text: [
          `Investigate the Prometheus alert "${alert}"${instance ? ` on instance ${instance}` : ''}. Keep each step small:`,
          `1. prometheus_alerts with name "${alert}": which label sets fire, since when, with what value and summary.`,
          `2. prometheus_rules with name "${alert}" and type alert: the PromQL condition, its "for" and whether the rule is healthy.`,
          '3. prometheus_query_range on the rule expression (without its comparison) for the last 3h: when did it start, is it still rising?',
          '4. Break it down: query_range of the underlying metrics by the labels of the firing alerts (sum by (instance) (...), topk(5, ...)).',
          '5. prometheus_targets with health down and the job of the alert: is a scrape failing instead?',
          'Finish with: what fires, since when, the most likely cause with the evidence, and the next check to run.',
        ].join('\n'),
      },
    ],
  },
  {
    name: 'scrape_health',
    title: 'Check scrape health',
    description: 'Find failing scrape targets, and series-count or rule problems, on one instance.',
    args: z.object({ job: z.string().optional().describe('Limit to one job') }),
    render: ({ job }) => [
      {
        role: 'user',
        text: [
          `Check the scrape health of Prometheus${job ? ` for job "${job}"` : ''}:`,
          `1. prometheus_targets with health down${job ? ` and job "${job}"` : ''}: list failing targets and their last error.`,
          '2. prometheus_query_range of sum by (job) (up == 0) over 6h: since when, flapping or steady?',
          '3. prometheus_rules with health err: rules that fail to evaluate.',
          '4. prometheus_status section tsdb: metrics with the most series (cardinality growth).',
          'Report: each problem, since when, the error message, and the fix to try.',
        ].join('\n'),
      },
    ],
  },
];
