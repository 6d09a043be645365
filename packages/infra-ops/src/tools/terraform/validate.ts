import { z } from 'zod';
import { runDetails } from '../../runner.js';
import { dirArg, parseJson, terraform, tool, workdir } from '../../terraform/cli.js';

interface Diagnostic {
  severity: string;
  summary: string;
  detail?: string;
  range?: { filename: string; start: { line: number } };
}

export const validateTool = tool({
  name: 'validate',
  title: 'Terraform validate',
  description:
    'Check a configuration: init without backend, then validate. Lists errors and warnings with file:line.',
  input: z.object({ dir: dirArg }),
  output: z.object({
    valid: z.boolean(),
    errors: z.number(),
    warnings: z.number(),
    diagnostics: z.array(
      z.object({ severity: z.string(), summary: z.string(), where: z.string().optional() }),
    ),
  }),
  effect: 'read',
  timeoutMs: 300_000,
  run: async ({ dir }, ctx) => {
    const cwd = workdir(ctx, dir);
    await terraform(ctx, cwd, ['init', '-backend=false', '-input=false', '-no-color']);
    // validate exits 1 when the configuration is invalid: the JSON says why
    const r = await terraform(ctx, cwd, ['validate', '-json', '-no-color'], { okCodes: [0, 1] });
    const v = parseJson<{
      valid: boolean;
      error_count: number;
      warning_count: number;
      diagnostics?: Diagnostic[];
    }>(r, 'terraform validate -json');
    const diagnostics = (v.diagnostics ?? []).slice(0, 50).map((d) => ({
      severity: d.severity,
      summary: d.summary,
      ...(d.range ? { where: `${d.range.filename}:${d.range.start.line}` } : {}),
    }));
    return {
      data: { valid: v.valid, errors: v.error_count, warnings: v.warning_count, diagnostics },
      text: [
        `${v.valid ? 'valid' : 'INVALID'}: ${v.error_count} errors, ${v.warning_count} warnings`,
        ...diagnostics.map((d) => `${d.severity}: ${d.summary}${d.where ? ` (${d.where})` : ''}`),
      ].join('\n'),
      audit: runDetails(r),
    };
  },
});
