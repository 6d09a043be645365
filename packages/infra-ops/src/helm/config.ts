import { allowListSchema } from '@infra-mcp/core';
import { z } from 'zod';

/** Options of one Helm instance. */
export const helmConfig = z.object({
  binary: z.string().default('helm').describe('The helm binary: a name on PATH or an absolute path'),
  chartsRoot: z
    .string()
    .optional()
    .describe(
      'Directory holding the charts and values files; every chart/values path is relative to it and stays under it',
    ),
  kubeconfig: z
    .string()
    .optional()
    .describe('Kubeconfig file the release tools use (helm --kubeconfig); unset: helm finds its own'),
  context: z.string().optional().describe('Kubeconfig context (helm --kube-context); unset: its current one'),
  namespace: z
    .string()
    .default('default')
    .describe('Namespace of release tools called without one (helm -n)'),
  allow: allowListSchema({ namespace: 'Namespaces the release tools may touch' }),
  env: z
    .array(z.string())
    .default(['PATH', 'HOME', 'HELM_*', 'KUBECONFIG', 'XDG_*'])
    .describe('Environment variables passed to helm (names or globs)'),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .default(120_000)
    .describe('Per-run timeout; the process group is killed'),
  maxOutputBytes: z
    .number()
    .int()
    .positive()
    .default(8 << 20)
    .describe('Bytes of helm output read per run (rendered manifests)'),
});
export type HelmConfig = z.infer<typeof helmConfig>;
