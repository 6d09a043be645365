import { z } from 'zod';
import { dirArg, terraform, tool, workdir } from '../../terraform/cli.js';

export const fmtCheckTool = tool({
  name: 'fmt_check',
  title: 'Terraform fmt check',
  description: 'List the files terraform fmt would rewrite (recursive). Changes nothing.',
  input: z.object({ dir: dirArg }),
  output: z.object({ formatted: z.boolean(), files: z.array(z.string()) }),
  effect: 'read',
  run: async ({ dir }, ctx) => {
    const cwd = workdir(ctx, dir);
    // exit 3: some files are not formatted (listed on stdout)
    const r = await terraform(ctx, cwd, ['fmt', '-check', '-list=true', '-recursive', '-no-color'], {
      okCodes: [0, 3],
    });
    const files = r.stdout.split('\n').filter(Boolean);
    return {
      data: { formatted: files.length === 0, files },
      text: files.length
        ? `${files.length} files need terraform fmt:\n${files.join('\n')}`
        : 'all files formatted',
    };
  },
});
