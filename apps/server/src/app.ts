import {
  type ApprovalStore,
  ConfigError,
  createServer,
  type InfraMcpServer,
  type LogLevel,
  stderrLogger,
  type TaskStore,
} from '@infra-mcp/core';
import { buildAuditSinks } from './audit-sinks.js';
import { type Flags, type LoadedConfig, loadConfig } from './config.js';
import { type CatalogEntry, selectPlugins } from './plugins.js';
import { VERSION } from './version.js';

export interface App {
  server: InfraMcpServer;
  loaded: LoadedConfig;
  /** Catalog plugins that are installed but not enabled. */
  available: CatalogEntry[];
  auditFile?: string;
}

/** Load config, select and load plugins, build the one registry. Throws ConfigError on bad input. */
export async function buildApp(
  flags: Flags,
  env: Record<string, string | undefined> = process.env,
  logLevel: LogLevel = 'info',
): Promise<App> {
  const loaded = await loadConfig(flags, env);
  const { config } = loaded;
  const { plugins, available } = await selectPlugins({
    select: loaded.select,
    configured: Object.keys(config.plugins),
    modules: flags.pluginModules,
    env,
  });
  const { sinks, auditFile } = await buildAuditSinks(config.audit, env, loaded.file);
  const { store: storeConfig, ...approvals } = config.approvals;
  const store = storeConfig ? await approvalStore(storeConfig) : undefined;
  const taskStore = config.tasks.store ? await redisTaskStore(config.tasks.store) : undefined;
  const { otlpEndpoint } = config.tracing;
  // the SDK and the exporter load only here: without tracing a start never reads them
  const tracing = otlpEndpoint
    ? (await import('./tracing.js')).startTracing({ ...config.tracing, otlpEndpoint })
    : undefined;
  const server = createServer({
    name: 'infra-mcp',
    version: VERSION,
    plugins,
    pluginConfig: config.plugins,
    configFile: loaded.file,
    env,
    policy: loaded.policy,
    audit: sinks,
    approvals: { ...approvals, ...(store ? { store } : {}) },
    ...(taskStore ? { tasks: { store: taskStore } } : {}),
    maxBytes: config.maxBytes,
    limits: config.limits,
    timeoutMs: config.timeoutMs,
    resilience: {
      ...config.resilience,
      ...(tracing ? { tracerProvider: tracing.provider } : {}),
    },
    logger: stderrLogger('infra-mcp', logLevel),
    instructions:
      'Infrastructure tools. Read tools are safe. Write tools return a dry-run preview and an approval token first; show the preview to the user and call again with the token only after they agree.',
  });
  if (tracing) {
    server.metrics.spans = tracing.stats;
    server.onClose(tracing.shutdown);
  }
  return { server, loaded, available, auditFile };
}

/**
 * The shared approval store the config names. It connects (and its client loads) at the first
 * approved call: `infra-mcp tools`, `config` and a start never wait on it. While it cannot be
 * reached, approved calls fail and nothing runs.
 */
async function approvalStore(
  spec: NonNullable<LoadedConfig['config']['approvals']['store']>,
): Promise<ApprovalStore> {
  if (spec.dynamodb) {
    const { DynamoApprovalStore } = await import('@infra-mcp/infra-ops');
    return new DynamoApprovalStore(spec.dynamodb);
  }
  if (!spec.redis?.url)
    throw new ConfigError(
      'approvals.store.redis: no url; set approvals.store.redis.url or env INFRA_MCP_APPROVAL_REDIS_URL (example: redis://redis:6379)',
    );
  const { RedisApprovalStore } = await import('@infra-mcp/redis');
  return new RedisApprovalStore({ url: spec.redis.url, prefix: spec.redis.prefix });
}

/** The shared task store the config names (connects at first use, like the approval store). */
async function redisTaskStore(
  spec: NonNullable<LoadedConfig['config']['tasks']['store']>,
): Promise<TaskStore> {
  const { RedisTaskStore } = await import('@infra-mcp/redis');
  if (!spec.redis.url)
    throw new ConfigError(
      'tasks.store.redis: no url; set tasks.store.redis.url or env INFRA_MCP_TASKS_REDIS_URL (example: redis://redis:6379)',
    );
  return new RedisTaskStore({ url: spec.redis.url, prefix: spec.redis.prefix });
}
