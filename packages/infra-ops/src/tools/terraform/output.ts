import { z } from 'zod';
import { dirArg, parseJson, terraform, tool, workdir } from '../../terraform/cli.js';

const REDACTED = '[REDACTED: sensitive output]';

export const outputTool = tool({
  name: 'output',
  title: 'Terraform outputs',
  description: 'Root module outputs from the state; sensitive outputs are redacted.',
  input: z.object({ dir: dirArg }),
  output: z.object({
    outputs: z.array(
      z.object({
        name: z.string(),
        sensitive: z.boolean(),
        value: z.unknown().describe('Redacted when sensitive'),
      }),
    ),
  }),
  effect: 'read',
  run: async ({ dir }, ctx) => {
    const cwd = workdir(ctx, dir);
    const r = await terraform(ctx, cwd, ['output', '-json', '-no-color'], {
      maxOutputBytes: ctx.config.maxPlanJsonBytes,
    });
    const raw = parseJson<Record<string, { sensitive?: boolean; value?: unknown }>>(
      r,
      'terraform output -json',
    );
    const outputs = Object.entries(raw).map(([name, o]) => ({
      name,
      sensitive: Boolean(o.sensitive),
      value: o.sensitive ? REDACTED : o.value,
    }));
    const show = (v: unknown) => {
      const s = typeof v === 'string' ? v : JSON.stringify(v);
      return s.length > 200 ? `${s.slice(0, 200)}…` : s;
    };
    return {
      data: { outputs },
      text: outputs.length ? outputs.map((o) => `${o.name} = ${show(o.value)}`).join('\n') : 'no outputs',
    };
  },
});
