import { listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { chartArg, chartDir, helm, tool, valuesArg, valuesFiles } from '../../helm/cli.js';
import { redactYaml } from '../../helm/redact.js';

interface Doc {
  kind: string;
  name: string;
  source: string;
  yaml: string;
}

export const templateTool = tool({
  name: 'template',
  title: 'Render a Helm chart',
  description:
    'Render a chart locally (helm template) with values files; lists the objects and shows their YAML, Secrets redacted, paged.',
  input: listInput({
    chart: chartArg,
    release: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .max(53)
      .default('release')
      .describe('Release name'),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
      .max(63)
      .default('default'),
    values: valuesArg,
    set: z.record(z.string(), z.string()).default({}).describe('--set key=value pairs'),
    show: z.enum(['list', 'yaml']).default('yaml').describe('list: kinds and names only'),
  }),
  output: listOutput({
    total: z.number(),
    objects: z.array(
      z.object({ kind: z.string(), name: z.string(), source: z.string(), yaml: z.string().optional() }),
    ),
  }),
  effect: 'read',
  run: async (args, ctx) => {
    const list = pager('helm_template', ctx, args);
    const chart = chartDir(ctx, args.chart);
    const r = await helm(ctx, [
      'template',
      args.release,
      chart,
      '--namespace',
      args.namespace,
      ...valuesFiles(ctx, args.values),
      ...Object.entries(args.set).flatMap(([k, v]) => ['--set', `${k}=${v}`]),
    ]);
    const docs: Doc[] = r.stdout
      .split(/^---\s*$/m)
      .map((d) => d.trim())
      .filter((d) => /^kind:/m.test(d))
      .map((d) => ({
        kind: /^kind:\s*(\S+)/m.exec(d)?.[1] ?? '?',
        name: /^metadata:\s*\n(?:\s+.*\n)*?\s+name:\s*(\S+)/m.exec(d)?.[1] ?? '?',
        source: /^# Source:\s*(.+)$/m.exec(d)?.[1] ?? '',
        yaml: redactYaml(d.replace(/^# Source:.*\n/m, '')),
      }));
    const yaml = args.show === 'yaml';
    return list.page({
      items: docs,
      line: (d) =>
        yaml ? `# ${d.kind}/${d.name} (${d.source})\n${d.yaml}\n---` : `${d.kind}/${d.name}  ${d.source}`,
      what: 'objects',
      narrow: 'show: list, or values',
      data: (page) => ({
        total: docs.length,
        objects: page.items.map((d) => (yaml ? d : { kind: d.kind, name: d.name, source: d.source })),
      }),
      text: (page, range) => [
        `${docs.length} objects rendered from ${args.chart}${range}`,
        ...page.items.map((d) =>
          yaml ? `# ${d.kind}/${d.name} (${d.source})\n${d.yaml}\n---` : `${d.kind}/${d.name}  ${d.source}`,
        ),
      ],
    });
  },
});
