import { allowListSchema, example, secret, tlsOptionsSchema } from '@infra-mcp/core';
import { z } from 'zod';
import { sigv4ConfigSchema } from './aws.js';
import { parseDuration } from './time.js';

/** Options of one Prometheus instance. */
export const configSchema = z.object({
  url: example(z.string().url(), 'http://prometheus:9090').describe(
    'Base URL; a path prefix is kept (AMP: https://aps-workspaces.<region>.amazonaws.com/workspaces/ws-.../)',
  ),
  timeoutMs: z.number().int().positive().default(30_000).describe('Per-request timeout in ms'),
  headers: z
    .record(z.string(), secret(z.string()))
    .default({})
    .describe('Extra request headers (X-Scope-OrgID, X-Auth-Key, ...); every value is treated as a secret'),
  basicAuth: z
    .object({ username: z.string(), password: secret(z.string()) })
    .strict()
    .optional()
    .describe('HTTP basic auth'),
  bearerToken: secret(z.string().optional()).describe('Bearer token'),
  bearerTokenFile: z.string().optional().describe('File holding the bearer token (re-read when it changes)'),
  // core's shared TLS options: caFile, certFile/keyFile, serverName, fingerprint256, insecureSkipVerify
  tls: tlsOptionsSchema.optional(),
  sigv4: sigv4ConfigSchema
    .optional()
    .describe('Sign requests with AWS SigV4 (Amazon Managed Service for Prometheus)'),
  method: z
    .enum(['POST', 'GET'])
    .default('POST')
    .describe('How to send queries: POST form bodies (default; falls back to GET on 405) or GET'),
  maxResponseBytes: z
    .number()
    .int()
    .positive()
    .default(32 << 20)
    .describe('Largest backend answer read (bytes); bigger ones are refused with a hint to narrow the query'),
  maxConcurrentRequests: z
    .number()
    .int()
    .positive()
    .default(16)
    .describe(
      'Requests in flight to this instance at once; more wait, and beyond 4x that are refused as busy',
    ),
  maxSeries: z
    .number()
    .int()
    .positive()
    .default(500)
    .describe('Cardinality guard: range queries over this many series are refused with a hint'),
  allow: allowListSchema({
    label:
      'Label names whose values label_values may list (e.g. ["job", "instance", "team_*"]); narrows discovery, not a data boundary while prometheus_query is allowed',
  }),
  maxRange: example(
    z.string().refine((v) => (parseDuration(v) ?? 0) > 0, {
      message:
        'maxRange must be a Prometheus duration: a number and a unit (ms, s, m, h, d, w, y), e.g. 31d, 12h, 1w2d',
    }),
    '31d',
  )
    .default('31d')
    .describe('Longest range a query_range may span (a duration: 31d, 12h)'),
});

export type PrometheusConfig = z.infer<typeof configSchema>;

export const envMap: Record<string, string> = {
  PROMETHEUS_URL: 'url',
  PROMETHEUS_TIMEOUT_MS: 'timeoutMs',
  PROMETHEUS_MAX_RESPONSE_BYTES: 'maxResponseBytes',
  PROMETHEUS_HEADERS: 'headers',
  PROMETHEUS_USERNAME: 'basicAuth.username',
  PROMETHEUS_PASSWORD: 'basicAuth.password',
  PROMETHEUS_BEARER_TOKEN: 'bearerToken',
  PROMETHEUS_BEARER_TOKEN_FILE: 'bearerTokenFile',
  PROMETHEUS_TLS_CA_FILE: 'tls.caFile',
  PROMETHEUS_TLS_CERT_FILE: 'tls.certFile',
  PROMETHEUS_TLS_KEY_FILE: 'tls.keyFile',
  PROMETHEUS_TLS_INSECURE_SKIP_VERIFY: 'tls.insecureSkipVerify',
  PROMETHEUS_TLS_FINGERPRINT256: 'tls.fingerprint256',
  PROMETHEUS_SIGV4_REGION: 'sigv4.region',
  PROMETHEUS_SIGV4_PROFILE: 'sigv4.profile',
  PROMETHEUS_SIGV4_ROLE_ARN: 'sigv4.roleArn',
};
