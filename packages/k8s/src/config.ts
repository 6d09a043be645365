import { allowListSchema, example } from '@infra-mcp/core';
import { z } from 'zod';

/** Options of one Kubernetes instance (a kubeconfig context, or the in-cluster service account). */
export const configSchema = z.object({
  kubeconfig: example(z.string(), '~/.kube/config')
    .optional()
    .describe(
      'Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config); each context becomes an instance',
    ),
  context: z.string().optional().describe('Use only this kubeconfig context (no discovery of the others)'),
  inCluster: z.boolean().default(false).describe('Use the pod service account (in-cluster config)'),
  readOnlyContexts: z
    .array(z.string())
    .default([])
    .describe('Context name globs whose instances are read-only (e.g. ["prod-*"])'),
  execContexts: z
    .array(z.string())
    .default([])
    .describe('Context name globs where k8s_exec may run (off everywhere by default), e.g. ["kind-*"]'),
  execTimeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(30)
    .describe('Longest a k8s_exec command may run, in seconds (a call may ask for less)'),
  execMaxOutputBytes: z
    .number()
    .int()
    .min(1024)
    .default(1_048_576)
    .describe(
      'Bytes of stdout and of stderr each that k8s_exec keeps (head and tail) before fitting the answer',
    ),
  revealSecretsContexts: z
    .array(z.string())
    .default([])
    .describe(
      "Context name globs where k8s_get shows a Secret's values to the caller (redacted everywhere by default; never in audit)",
    ),
  allow: allowListSchema({ namespace: 'Namespaces tools may touch' }),
  timeoutMs: z.number().int().positive().default(30_000).describe('Per-request timeout in ms'),
});

export type K8sConfig = z.infer<typeof configSchema>;

/** Environment variable -> option of the default instance. */
export const envMap = {
  KUBECONFIG: 'kubeconfig',
  K8S_CONTEXT: 'context',
  K8S_IN_CLUSTER: 'inCluster',
};
