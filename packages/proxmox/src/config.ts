import { allowListSchema, example, secret, tlsOptionsSchema } from '@infra-mcp/core';
import { z } from 'zod';

/** Options of one Proxmox VE instance (a cluster or a single node). */
export const configSchema = z
  .object({
    url: example(z.string().url(), 'https://pve1.example.com:8006').describe(
      'Base URL of the PVE API (scheme, host, port; /api2/json is added)',
    ),
    tokenId: example(z.string().regex(/^[^@\s]+@[^!\s]+![^\s]+$/), 'monitor@pve!mcp')
      .optional()
      .describe('API token id USER@REALM!TOKENID (preferred over a password)'),
    tokenSecret: secret(z.string().optional()).describe('API token secret (a UUID)'),
    username: z.string().optional().describe('User@realm for ticket login (when no token is set)'),
    password: secret(z.string().optional()).describe('Password for ticket login; tickets are renewed'),
    timeoutMs: z.number().int().positive().default(30_000).describe('Per-request timeout in ms'),
    tls: tlsOptionsSchema.optional(),
    allow: allowListSchema({
      node: 'Nodes tools may touch',
      vmid: 'Guest ids tools may touch (e.g. "{100..199}")',
      pool: 'Pools whose guests tools may touch',
    }),
    exec: z
      .object({
        enabled: z.boolean().default(false).describe('Allow proxmox_exec (guest agent commands)'),
        commands: z
          .array(z.string())
          .optional()
          .describe('Programs exec may run (argv[0], exact or glob); absent: any'),
        timeoutSeconds: z.number().positive().default(30).describe('Longest a command may run'),
        maxOutputBytes: z.number().int().positive().default(8192).describe('stdout/stderr kept each'),
      })
      .strict()
      .default({ enabled: false, timeoutSeconds: 30, maxOutputBytes: 8192 }),
  })
  .superRefine((c, ctx) => {
    if (c.tokenId && !c.tokenSecret)
      ctx.addIssue({ code: 'custom', path: ['tokenSecret'], message: 'tokenId needs tokenSecret' });
    if (c.username && !c.password && !c.tokenId)
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'username needs password' });
  });

export type ProxmoxConfig = z.infer<typeof configSchema>;

export const envMap: Record<string, string> = {
  PROXMOX_URL: 'url',
  PROXMOX_TOKEN_ID: 'tokenId',
  PROXMOX_TOKEN_SECRET: 'tokenSecret',
  PROXMOX_USERNAME: 'username',
  PROXMOX_PASSWORD: 'password',
  PROXMOX_TIMEOUT_MS: 'timeoutMs',
  PROXMOX_TLS_CA_FILE: 'tls.caFile',
  PROXMOX_TLS_FINGERPRINT: 'tls.fingerprint256',
  PROXMOX_TLS_INSECURE_SKIP_VERIFY: 'tls.insecureSkipVerify',
  PROXMOX_EXEC_ENABLED: 'exec.enabled',
};
