import { z } from 'zod';

/** Options of one terraform (or OpenTofu) instance. */
export const terraformConfig = z.object({
  binary: z
    .string()
    .default('terraform')
    .describe('The terraform or tofu binary: a name on PATH or an absolute path'),
  root: z
    .string()
    .optional()
    .describe(
      'Directory holding the configurations; every dir argument is relative to it and stays under it',
    ),
  env: z
    .array(z.string())
    .default(['PATH', 'HOME', 'TF_*', 'AWS_*', 'ARM_*', 'GOOGLE_*', 'KUBECONFIG'])
    .describe(
      'Environment variables passed to the binary (names or globs); values of secret-looking ones are masked',
    ),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .default(600_000)
    .describe('Per-run timeout; the process group is killed'),
  maxOutputBytes: z
    .number()
    .int()
    .positive()
    .default(65_536)
    .describe('Bytes of stdout/stderr kept per run (head and tail)'),
  maxPlanJsonBytes: z
    .number()
    .int()
    .positive()
    .default(64 << 20)
    .describe('Largest `show -json` document read'),
  planDir: z
    .string()
    .optional()
    .describe('Where plan files are kept until applied or expired (default: a private temp dir)'),
  lockTimeout: z.string().default('30s').describe('-lock-timeout for plan and apply'),
});
export type TerraformConfig = z.infer<typeof terraformConfig>;
