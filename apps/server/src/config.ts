import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  ConfigError,
  formatIssues,
  originPattern,
  type Policy,
  pluginPolicySchema,
  policyRulesSchema,
  resolveSecretRefs,
  type SecretReference,
  secretRefContext,
  showReference,
} from '@infra-mcp/core';
import { z } from 'zod';

/** The smallest output budget a result can be shaped into (`maxBytes`, `--max-bytes`). */
export const MIN_MAX_BYTES = 1024;

const httpsUrl = (what: string, example: string) => z.string().min(1).describe(what).meta({ example });

/** auth.oauth: this server as an OAuth 2.1 resource server (checked further by core's validateOAuthOptions). */
export const oauthConfigSchema = z.strictObject({
  issuer: httpsUrl(
    "Authorization server issuer, exactly as in tokens' iss (env INFRA_MCP_OAUTH_ISSUER)",
    'https://auth.example.com/realms/infra',
  ),
  resource: httpsUrl(
    "This server's resource URI: the public URL of /mcp; tokens must carry it in aud (env INFRA_MCP_OAUTH_RESOURCE)",
    'https://mcp.example.com/mcp',
  ),
  audience: z
    .string()
    .optional()
    .describe(
      'The aud tokens must carry when the authorization server cannot use the resource URI (default: resource)',
    ),
  jwksUri: z
    .string()
    .optional()
    .describe("The issuer's JWKS URL (default: from its discovery document; env INFRA_MCP_OAUTH_JWKS_URI)"),
  algorithms: z
    .array(z.string())
    .optional()
    .describe('Accepted signature algorithms (default RS256, PS256, ES256, EdDSA; none and HMAC never)'),
  clockToleranceSeconds: z
    .number()
    .int()
    .min(0)
    .max(300)
    .default(5)
    .describe('Clock skew tolerated on exp/nbf'),
  scopes: z
    .strictObject({
      read: z.string().default('infra-mcp:read'),
      write: z.string().default('infra-mcp:write'),
      destructive: z.string().default('infra-mcp:destructive'),
    })
    .default({ read: 'infra-mcp:read', write: 'infra-mcp:write', destructive: 'infra-mcp:destructive' })
    .describe('Scope names granting read, write and destructive tools (cumulative: write includes read)'),
});

/** infra-mcp.yaml. Plugin sections (`plugins.<id>`) are validated by each plugin's own schema. */
export const appConfigSchema = z.strictObject({
  plugins: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('Per-plugin options: plugins.<id>: { ... } or { instances: { name: { ... } } }'),
  policy: policyRulesSchema
    .extend({ plugins: z.record(z.string(), pluginPolicySchema).optional() })
    .default({}),
  audit: z
    .strictObject({
      file: z.string().optional().describe('JSONL audit file (default ~/.local/state/infra-mcp/audit.jsonl)'),
      keyFile: z
        .string()
        .optional()
        .describe('Audit chain key file (default ~/.config/infra-mcp/audit.key; INFRA_MCP_AUDIT_KEY wins)'),
      rotateBytes: z
        .number()
        .int()
        .min(0)
        .optional()
        .describe('Start a new JSONL file at this size (default 64 MiB; 0: never)'),
      sinks: z
        .array(
          z.union([
            z.enum(['jsonl', 'stderr']),
            z.strictObject({
              module: z.string().describe('Package name, or a path relative to the config file'),
              export: z
                .string()
                .default('default')
                .describe('An AuditSink, or a function (options) => AuditSink'),
              options: z.record(z.string(), z.unknown()).optional(),
            }),
          ]),
        )
        .default(['jsonl'])
        .describe('Where records go; the first is the primary (a record counts as stored when it stored it)'),
    })
    .default({ sinks: ['jsonl'] }),
  approvals: z
    .strictObject({
      mode: z.enum(['token', 'elicit']).default('token'),
      ttlSeconds: z.number().int().positive().default(600),
      secret: z.string().min(16).optional().meta({ secret: true }),
      store: z
        .strictObject({
          redis: z
            .strictObject({
              url: z
                .string()
                .optional()
                .meta({ secret: true, example: 'redis://redis:6379' })
                .describe('Redis/Valkey URL (env INFRA_MCP_APPROVAL_REDIS_URL wins; may hold a password)'),
              prefix: z
                .string()
                .min(1)
                .default('infra-mcp:')
                .describe(
                  "Key prefix; also the tokens' scope: replicas sharing it accept each other's tokens",
                ),
            })
            .optional(),
          dynamodb: z
            .strictObject({
              table: z
                .string()
                .min(1)
                .default('mcp_approvals')
                .describe("Table (created when missing); also the tokens' scope"),
              region: z.string().optional(),
              endpoint: z
                .string()
                .url()
                .optional()
                .describe('Endpoint override (DynamoDB Local, a VPC endpoint)'),
            })
            .optional()
            .describe('Used tokens in a DynamoDB table (credentials: the default AWS provider chain)'),
        })
        .refine((s) => (s.redis ? 1 : 0) + (s.dynamodb ? 1 : 0) === 1, {
          message: 'name one store: redis or dynamodb',
        })
        .optional()
        .describe('Shared store of used approval tokens: single use across replicas and restarts'),
    })
    .default({ mode: 'token', ttlSeconds: 600 }),
  tasks: z
    .strictObject({
      store: z
        .strictObject({
          redis: z.strictObject({
            url: z
              .string()
              .optional()
              .meta({ secret: true, example: 'redis://redis:6379' })
              .describe('Redis/Valkey URL (env INFRA_MCP_TASKS_REDIS_URL wins; may hold a password)'),
            prefix: z.string().min(1).default('infra-mcp:'),
          }),
        })
        .optional()
        .describe('Shared MCP task state: any replica answers tasks/get, tasks/result, tasks/list'),
    })
    .default({}),
  maxBytes: z
    .number()
    .int()
    .min(MIN_MAX_BYTES)
    .default(16_384)
    .describe('Default output budget per tool result, bytes'),
  timeoutMs: z.number().int().positive().default(30_000).describe('Default per-tool timeout, ms'),
  limits: z
    .strictObject({
      concurrent: z
        .number()
        .int()
        .min(1)
        .default(64)
        .describe('Calls running at once; past it an HTTP call gets 429 (stdio: a busy answer)'),
      perCaller: z
        .number()
        .int()
        .min(1)
        .default(16)
        .describe('Calls running at once per HTTP caller (token name); past it, 429'),
    })
    .default({ concurrent: 64, perCaller: 16 }),
  tracing: z
    .strictObject({
      otlpEndpoint: z
        .url({ protocol: /^https?$/, error: 'otlpEndpoint must be an http:// or https:// URL' })
        .optional()
        .meta({ example: 'http://otel-collector:4318/v1/traces' })
        .describe(
          'OTLP/HTTP traces endpoint; unset: no spans are exported (env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces)',
        ),
      serviceName: z
        .string()
        .min(1)
        .default('infra-mcp')
        .describe('service.name of the spans (env OTEL_SERVICE_NAME)'),
      sampleRatio: z
        .number()
        .min(0)
        .max(1)
        .default(1)
        .describe('Share of new traces recorded, 0..1; a client traceparent keeps its own decision'),
    })
    .default({ serviceName: 'infra-mcp', sampleRatio: 1 }),
  resilience: z
    .strictObject({
      breaker: z
        .union([
          z.literal(false),
          z.strictObject({
            failures: z.number().int().min(1).default(5).describe('Consecutive failures that open it'),
            cooldownMs: z
              .number()
              .int()
              .positive()
              .default(30_000)
              .describe('How long it stays open before one probe request, ms'),
          }),
        ])
        .default({ failures: 5, cooldownMs: 30_000 })
        .describe('Circuit breaker per backend instance (false: off)'),
      retry: z
        .union([
          z.literal(false),
          z
            .strictObject({
              attempts: z
                .number()
                .int()
                .min(1)
                .max(10)
                .default(3)
                .describe('Attempts in all, the first included'),
              baseMs: z
                .number()
                .int()
                .positive()
                .default(200)
                .describe('First backoff, ms; doubled each retry'),
              maxMs: z.number().int().positive().default(2000).describe('Longest backoff, ms'),
            })
            .refine((r) => r.maxMs >= r.baseMs, {
              message: 'maxMs must be at least baseMs (e.g. baseMs: 200, maxMs: 2000)',
              path: ['maxMs'],
            }),
        ])
        .default({ attempts: 3, baseMs: 200, maxMs: 2000 })
        .describe('Retries of idempotent GETs on connection errors and 502/503/504 (false: off)'),
      cache: z
        .union([
          z.literal(false),
          z.strictObject({
            max: z.number().int().min(1).default(1000).describe('Entries kept at most'),
            ttlMs: z.number().int().positive().default(30_000).describe('How long an entry is served, ms'),
          }),
        ])
        .default({ max: 1000, ttlMs: 30_000 })
        .describe('TTL cache of discovery reads (label names, metadata; false: off)'),
    })
    .default({
      breaker: { failures: 5, cooldownMs: 30_000 },
      retry: { attempts: 3, baseMs: 200, maxMs: 2000 },
      cache: { max: 1000, ttlMs: 30_000 },
    }),
  http: z
    .strictObject({
      listen: z.string().optional().meta({ example: '127.0.0.1:3000' }),
      allowedHosts: z.array(z.string()).default([]),
      allowedOrigins: z
        .array(
          z.string().superRefine((value, ctx) => {
            const problem = originProblem(value);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
        )
        .default([])
        .describe('Browser origins allowed (CORS), scheme://host[:port]; * for any host-name characters'),
      maxBodyBytes: z.number().int().positive().default(1_048_576),
      rateLimit: z
        .strictObject({
          rate: z.number().positive().describe('Requests per second each caller may sustain'),
          burst: z
            .number()
            .int()
            .min(1)
            .optional()
            .describe('Requests at once after being idle (default: rate)'),
        })
        .optional()
        .describe('Per-caller token bucket (token name, else remote address); past it, 429 with Retry-After'),
      compressMinBytes: z
        .union([z.number().int().min(0), z.literal(false)])
        .optional()
        .describe(
          'gzip JSON/SSE answers from this size (default 1024) for clients that accept it; false: never',
        ),
      tokenFile: z.string().optional().describe('File of bearer tokens, one `name:token` per line'),
    })
    .default({ allowedHosts: [], allowedOrigins: [], maxBodyBytes: 1_048_576 }),
  auth: z
    .strictObject({
      oauth: oauthConfigSchema
        .optional()
        .describe(
          'OAuth 2.1 resource server: JWT access tokens from this issuer (static tokens keep working)',
        ),
    })
    .default({}),
});

export type AppConfig = z.infer<typeof appConfigSchema>;

export interface Flags {
  config?: string;
  plugins?: string[];
  /** Toolsets to list (--toolsets): name, plugin/name, all, default. */
  toolsets?: string[];
  pluginModules: string[];
  readOnly?: boolean;
  http?: string;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  auditFile?: string;
  tokenFile?: string;
  maxBytes?: number;
}

export interface LoadedConfig {
  config: AppConfig;
  /** The file read, if any. */
  file?: string;
  policy: Policy;
  /** Plugin ids the user asked for (--plugins / INFRA_MCP_PLUGINS), if any. */
  select?: string[];
  /** Secret references resolved in the app's own options (approvals.secret), shown by `infra-mcp config`. */
  references?: SecretReference[];
}

const DEFAULT_FILES = ['infra-mcp.yaml', 'infra-mcp.yml'];

/** The OpenTelemetry variables: the traces endpoint as is, or the base endpoint + /v1/traces. */
function otlpFromEnv(env: Record<string, string | undefined>): string | undefined {
  const [name, raw] = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
    ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT]
    : ['OTEL_EXPORTER_OTLP_ENDPOINT', env.OTEL_EXPORTER_OTLP_ENDPOINT];
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(
      `env ${name}: expected an http:// or https:// URL, got "${raw}"; example: ${name}=http://otel-collector:4318`,
    );
  if (name === 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') return url.toString();
  return `${raw.replace(/\/+$/, '')}/v1/traces`;
}

function envBool(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`env ${name}: expected a boolean (true/false), got "${raw}"; example: ${name}=true`);
}

function envInt(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new ConfigError(`env ${name}: expected an integer >= ${min}, got "${raw}"; example: ${name}=16384`);
  return n;
}

/** What is wrong with an allowed-origin pattern, if anything. */
function originProblem(item: string): string | undefined {
  try {
    originPattern(item);
    return undefined;
  } catch {
    return `"${item}" is not an origin (scheme://host[:port], no path; * for any host-name characters); example: https://app.example.com or https://*.example.com`;
  }
}

/**
 * A comma-separated list of HTTP hosts (`mcp.example.com`, `10.0.0.5:3000`) or origins
 * (`https://app.example.com`), checked so that a typo fails at start, naming its flag or variable.
 */
export function parseList(source: string, raw: string): string[] {
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const origins = /origin/i.test(source);
  for (const item of items) {
    if (origins) {
      const problem = originProblem(item);
      if (problem) throw new ConfigError(`${source}: ${problem}`);
    } else if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+|[0-9a-f:]+)(:\d{1,5})?$/i.test(item)) {
      throw new ConfigError(
        `${source}: "${item}" is not a host name (host or host:port, no scheme or path); example: mcp.example.com`,
      );
    }
  }
  return items;
}

/** The YAML parser loads only when there is a file to read (CommonJS: its exports may sit on `default`). */
export async function loadYaml(): Promise<typeof import('yaml')> {
  const mod = (await import('yaml')) as Partial<typeof import('yaml')> & { default?: typeof import('yaml') };
  return (mod.parse ? mod : mod.default) as typeof import('yaml');
}

/** Load the effective config. Precedence: flags > env > file > defaults. */
export async function loadConfig(
  flags: Flags,
  env: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
): Promise<LoadedConfig> {
  const explicit = flags.config ?? env.INFRA_MCP_CONFIG;
  let file: string | undefined;
  let raw: unknown = {};
  if (explicit) {
    file = resolve(cwd, explicit);
    if (!existsSync(file))
      throw new ConfigError(
        `config file not found: ${file} (from ${flags.config ? '--config' : 'INFRA_MCP_CONFIG'})`,
      );
  } else {
    file = DEFAULT_FILES.map((f) => resolve(cwd, f)).find((f) => existsSync(f));
  }
  if (file) {
    try {
      raw = (await loadYaml()).parse(readFileSync(file, 'utf8')) ?? {};
    } catch (err) {
      throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new ConfigError(`${file}: the top level must be a mapping (plugins:, policy:, audit:, ...)`);
  }
  // secret references in the app's own secret options (approvals.secret); plugins resolve theirs
  const references: SecretReference[] = [];
  const { plugins: pluginSections, ...own } = raw as Record<string, unknown>;
  const ownResolved = resolveSecretRefs(
    appConfigSchema,
    own,
    secretRefContext(env, file ? dirname(file) : cwd),
    references,
    (path, ref, err) => {
      throw new ConfigError(
        `${file ?? 'config'}: "${path.join('.')}": ${showReference(ref)}: ${err.message}`,
      );
    },
  ) as Record<string, unknown>;
  if (ownResolved !== own)
    raw = { ...ownResolved, ...(pluginSections !== undefined ? { plugins: pluginSections } : {}) };
  const parsed = appConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success)
    throw new ConfigError(formatIssues(file ?? 'config', '', appConfigSchema, parsed.error));
  const config = parsed.data;

  // env over file
  const readOnlyEnv = envBool('INFRA_MCP_READ_ONLY', env.INFRA_MCP_READ_ONLY);
  if (readOnlyEnv !== undefined) config.policy.readOnly = readOnlyEnv;
  // read-only from the environment or a flag is enforced: no plugin or instance policy can lift it
  let enforceReadOnly = readOnlyEnv === true;
  const maxBytesEnv = envInt('INFRA_MCP_MAX_BYTES', env.INFRA_MCP_MAX_BYTES, MIN_MAX_BYTES);
  if (maxBytesEnv !== undefined) config.maxBytes = maxBytesEnv;
  if (env.INFRA_MCP_AUDIT_FILE) config.audit.file = env.INFRA_MCP_AUDIT_FILE;
  if (env.INFRA_MCP_TOKEN_FILE) config.http.tokenFile = env.INFRA_MCP_TOKEN_FILE;
  if (env.INFRA_MCP_APPROVAL_SECRET) {
    config.approvals.secret = env.INFRA_MCP_APPROVAL_SECRET;
    const i = references.findIndex((r) => r.path.join('.') === 'approvals.secret');
    if (i >= 0) references.splice(i, 1);
  }
  if (env.INFRA_MCP_TASKS_REDIS_URL) {
    config.tasks.store ??= { redis: { prefix: 'infra-mcp:' } };
    config.tasks.store.redis.url = env.INFRA_MCP_TASKS_REDIS_URL;
  }
  if (env.INFRA_MCP_APPROVAL_REDIS_URL) {
    if (config.approvals.store?.dynamodb)
      throw new ConfigError(
        'env INFRA_MCP_APPROVAL_REDIS_URL is set but approvals.store names dynamodb: use one store (unset the variable, or remove approvals.store.dynamodb)',
      );
    config.approvals.store ??= {};
    config.approvals.store.redis ??= { prefix: 'infra-mcp:' };
    config.approvals.store.redis.url = env.INFRA_MCP_APPROVAL_REDIS_URL;
  }
  if (env.INFRA_MCP_HTTP) config.http.listen = env.INFRA_MCP_HTTP;
  const otlp = otlpFromEnv(env);
  if (otlp) config.tracing.otlpEndpoint = otlp;
  if (env.OTEL_SERVICE_NAME) config.tracing.serviceName = env.OTEL_SERVICE_NAME;
  if (env.INFRA_MCP_ALLOWED_HOSTS)
    config.http.allowedHosts = parseList('env INFRA_MCP_ALLOWED_HOSTS', env.INFRA_MCP_ALLOWED_HOSTS);
  if (env.INFRA_MCP_ALLOWED_ORIGINS)
    config.http.allowedOrigins = parseList('env INFRA_MCP_ALLOWED_ORIGINS', env.INFRA_MCP_ALLOWED_ORIGINS);
  await applyOAuthEnv(config, env, file);

  // flags over env
  if (flags.readOnly) {
    config.policy.readOnly = true;
    enforceReadOnly = true;
  }
  if (flags.maxBytes !== undefined) config.maxBytes = flags.maxBytes;
  if (flags.auditFile) config.audit.file = flags.auditFile;
  if (flags.tokenFile) config.http.tokenFile = flags.tokenFile;
  if (flags.http) config.http.listen = flags.http;
  if (flags.allowedHosts) config.http.allowedHosts = flags.allowedHosts;
  if (flags.allowedOrigins) config.http.allowedOrigins = flags.allowedOrigins;

  const selectRaw = flags.plugins ?? (env.INFRA_MCP_PLUGINS ? env.INFRA_MCP_PLUGINS.split(',') : undefined);
  const select = selectRaw?.map((s) => s.trim()).filter(Boolean);
  const toolsetsRaw =
    flags.toolsets ?? (env.INFRA_MCP_TOOLSETS ? env.INFRA_MCP_TOOLSETS.split(',') : undefined);
  const toolsets = toolsetsRaw?.map((s) => s.trim()).filter(Boolean);
  const { plugins: pluginPolicies, ...global } = config.policy;
  return {
    config,
    file,
    policy: {
      ...global,
      enforceReadOnly,
      plugins: pluginPolicies,
      ...(toolsets?.length ? { toolsets } : {}),
    },
    select,
    ...(references.length ? { references } : {}),
  };
}

const OAUTH_ENV = {
  INFRA_MCP_OAUTH_ISSUER: 'issuer',
  INFRA_MCP_OAUTH_RESOURCE: 'resource',
  INFRA_MCP_OAUTH_AUDIENCE: 'audience',
  INFRA_MCP_OAUTH_JWKS_URI: 'jwksUri',
} as const;

/** INFRA_MCP_OAUTH_* over auth.oauth, then the whole section checked (core loads only when it is set). */
async function applyOAuthEnv(
  config: AppConfig,
  env: Record<string, string | undefined>,
  file: string | undefined,
): Promise<void> {
  const fromEnv = Object.entries(OAUTH_ENV).filter(([name]) => env[name]);
  if (fromEnv.length) {
    const merged: Record<string, unknown> = { ...config.auth.oauth };
    for (const [name, key] of fromEnv) merged[key] = env[name];
    for (const key of ['issuer', 'resource'])
      if (!merged[key])
        throw new ConfigError(
          `env ${fromEnv.map(([n]) => n).join(', ')}: OAuth also needs ${key}: set auth.oauth.${key} in the config file or env INFRA_MCP_OAUTH_${key.toUpperCase()}`,
        );
    config.auth.oauth = oauthConfigSchema.parse(merged);
  }
  if (config.auth.oauth) {
    const { validateOAuthOptions } = await import('@infra-mcp/core/oauth');
    validateOAuthOptions(
      config.auth.oauth,
      `${fromEnv.length ? 'auth.oauth (with env INFRA_MCP_OAUTH_*)' : `${file ?? 'config'}: auth.oauth`}`,
    );
  }
}

/** Bearer tokens: INFRA_MCP_TOKENS ("name:token,name2:token2" or a bare token) and/or a token file. */
export function loadTokens(
  config: AppConfig,
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  const tokens: Record<string, string> = {};
  const add = (entry: string, source: string, index: number) => {
    const line = entry.trim();
    if (!line || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const [name, token] =
      colon > 0 ? [line.slice(0, colon), line.slice(colon + 1)] : [`token${index + 1}`, line];
    if (token.length < 16)
      throw new ConfigError(
        `${source}: token "${name}" is shorter than 16 characters; use a long random value (openssl rand -hex 32)`,
      );
    tokens[name] = token;
  };
  for (const [i, e] of (env.INFRA_MCP_TOKENS ?? '').split(',').entries()) add(e, 'env INFRA_MCP_TOKENS', i);
  if (config.http.tokenFile) {
    if (!existsSync(config.http.tokenFile))
      throw new ConfigError(`token file not found: ${config.http.tokenFile}`);
    const lines = readFileSync(config.http.tokenFile, 'utf8').split('\n');
    for (const [i, e] of lines.entries()) add(e, config.http.tokenFile, i);
  }
  return tokens;
}

/** Parse "host:port", ":port" or "port". */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+)?:)?(\d+)$/.exec(listen.trim());
  if (!m)
    throw new ConfigError(`--http: expected host:port, got "${listen}"; example: --http 127.0.0.1:3000`);
  const host = (m[1] ?? '127.0.0.1').replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(`--http: port ${port} is out of range (0-65535)`);
  return { host, port };
}
