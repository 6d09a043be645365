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
