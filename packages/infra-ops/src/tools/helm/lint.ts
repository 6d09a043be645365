import { z } from 'zod';
import { chartArg, chartDir, helm, tool, valuesArg, valuesFiles } from '../../helm/cli.js';

export const lintTool = tool({
  name: 'lint',
  title: 'Lint a Helm chart',
  description: 'helm lint a chart (with values files): errors, warnings and infos.',
  input: z.object({
    chart: chartArg,
    values: valuesArg,
    strict: z.boolean().default(false).describe('Fail on warnings'),
  }),
  output: z.object({
    ok: z.boolean(),
    messages: z.array(z.object({ level: z.string(), message: z.string() })),
  }),
  effect: 'read',
  run: async (args, ctx) => {
    const chart = chartDir(ctx, args.chart);
    // exit 1: the chart failed lint; the messages say why
    const r = await helm(
      ctx,
      ['lint', chart, ...valuesFiles(ctx, args.values), ...(args.strict ? ['--strict'] : [])],
      {
        okCodes: [0, 1],
      },
    );
    const messages = `${r.stdout}\n${r.stderr}`
      .split('\n')
      .map((l) => /^\[(ERROR|WARNING|INFO)\]\s*(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ level: m[1]!.toLowerCase(), message: m[2]!.split(chart).join(args.chart) }));
    const ok = r.exitCode === 0;
    return {
      data: { ok, messages },
      text: [
        `${args.chart}: ${ok ? 'lint passed' : 'lint FAILED'}`,
        ...messages.map((m) => `[${m.level}] ${m.message}`),
      ].join('\n'),
    };
  },
});
