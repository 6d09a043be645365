import { createServer, type InfraMcpServer, type LogLevel, stderrLogger } from '@infra-mcp/core';
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
  const server = createServer({
    name: 'infra-mcp',
    version: VERSION,
    plugins,
    pluginConfig: config.plugins,
    configFile: loaded.file,
    env,
    policy: loaded.policy,
    audit: sinks,
    approvals: config.approvals,
    maxBytes: config.maxBytes,
    limits: config.limits,
    timeoutMs: config.timeoutMs,
    logger: stderrLogger('infra-mcp', logLevel),
    instructions:
      'Infrastructure tools. Read tools are safe. Write tools return a dry-run preview and an approval token first; show the preview to the user and call again with the token only after they agree.',
  });
  return { server, loaded, available, auditFile };
}
