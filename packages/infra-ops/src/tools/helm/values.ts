import { z } from 'zod';
import { chartArg, chartDir, helm, tool } from '../../helm/cli.js';
import { redactYaml } from '../../helm/redact.js';

export const valuesTool = tool({
  name: 'values',
  title: 'Chart default values',
  description: "A chart's default values (helm show values), credential-looking values redacted.",
  input: z.object({ chart: chartArg }),
  output: z.object({ chart: z.string(), values: z.string().describe('YAML, secrets redacted') }),
  effect: 'read',
  run: async ({ chart }, ctx) => {
    const r = await helm(ctx, ['show', 'values', chartDir(ctx, chart)]);
    const values = redactYaml(r.stdout, false);
    return { data: { chart, values }, text: `# default values of ${chart}\n${values}` };
  },
});
