import { allowListSchema, example, secret, tlsOptionsSchema } from '@infra-mcp/core';
import { z } from 'zod';

/** Options of one Argo CD instance. */
export const argocdConfig = z.object({
  url: example(z.string().url(), 'https://argocd.example.com').describe('Argo CD API server base URL'),
  token: secret(z.string().optional()).describe('API token (argocd account generate-token)'),
  timeoutMs: z.number().int().positive().default(30_000).describe('Per-request timeout in ms'),
  tls: tlsOptionsSchema.optional(),
  maxResponseBytes: z
    .number()
    .int()
    .positive()
    .default(32 << 20)
    .describe('Largest API answer read'),
  pollIntervalMs: z
    .number()
    .int()
    .positive()
    .default(2000)
    .describe('How often a sync or rollback is checked while it runs'),
  allow: allowListSchema({ app: 'Applications tools may touch', project: 'Projects tools may touch' }),
});
export type ArgocdConfig = z.infer<typeof argocdConfig>;
