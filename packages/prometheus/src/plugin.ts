import { checkAnswer, definePlugin, isToolError, type ToolDefinition } from '@infra-mcp/core';
import { PrometheusClient } from './client.js';
import { configSchema, envMap, type PrometheusConfig } from './config.js';
import { prompts } from './prompts.js';
import { alertsTool } from './tools/alerts.js';
import { labelValuesTool } from './tools/label-values.js';
import { labelsTool } from './tools/labels.js';
import { metadataTool } from './tools/metadata.js';
import { queryTool } from './tools/query.js';
import { queryRangeTool } from './tools/query-range.js';
import { rulesTool } from './tools/rules.js';
import { seriesTool } from './tools/series.js';
import { statusTool } from './tools/status.js';
import { targetsTool } from './tools/targets.js';
import { workspacesTool } from './tools/workspaces.js';

export const VERSION = '0.1.0';

/**
 * Every tool fits its answer into the call's budget; this checks it on the way out, so an answer
 * over `maxBytes` (structured JSON plus text, core's one measure) becomes a clear over_budget error.
 */
function withinBudget<T extends ToolDefinition<any, any, PrometheusClient, any, PrometheusConfig>>(
  tool: T,
): T {
  return {
    ...tool,
    run: async (args, ctx, plan) => {
      const result = await tool.run(args, ctx, plan);
      checkAnswer(`prometheus_${tool.name}`, result, ctx.budget);
      return result;
    },
  };
}

/**
 * Prometheus-compatible backends (Prometheus, Amazon Managed Prometheus via SigV4, Mimir, Thanos):
 * queries with compact answers, series and label discovery, targets, alerts, rules and status.
 *
 *   createServer({ plugins: [prometheus({ url: 'http://prometheus:9090' })] })
 */
export const prometheus = definePlugin({
  id: 'prometheus',
  title: 'Prometheus',
  description: 'Prometheus and Amazon Managed Prometheus: PromQL queries, series, targets, alerts, rules',
  version: VERSION,
  config: configSchema,
  env: envMap,
  instances: true,
  isConfigured: (config) => Boolean(config.url),
  // Listed by default: what answers a question about metrics (find the names, then query).
  // The rest is there on request (--toolsets status, or all).
  toolsets: {
    query: { description: 'PromQL instant and range queries', default: true },
    discover: { description: 'Series, label names and values, metric metadata', default: true },
    status: { description: 'Scrape targets, alerts, rules, server status' },
    amp: { description: 'Amazon Managed Prometheus workspaces (instances with sigv4)', default: true },
  },
  setup: async (config, { instance, log, redact, secret, backend }) =>
    new PrometheusClient(config, instance, log, { redact, secret, backend }),
  dispose: (client) => client.close(),
  health: async (client) => {
    const signal = AbortSignal.timeout(client.config.timeoutMs);
    try {
      const build = await client.api<{ version?: string }>('api/v1/status/buildinfo', [], { signal });
      return {
        ok: true,
        message: `prometheus ${build.data.version ?? '(unknown version)'} at ${client.displayUrl}`,
      };
    } catch (err) {
      // AMP, Mimir and Thanos may not serve buildinfo: an instant query proves the API answers.
      if (!isToolError(err) || err.code !== 'not_supported') throw err;
      await client.api('api/v1/query', [['query', '1']], { signal });
      return { ok: true, message: `query API answers at ${client.displayUrl}` };
    }
  },
  tools: [
    queryTool,
    queryRangeTool,
    seriesTool,
    labelsTool,
    labelValuesTool,
    metadataTool,
    targetsTool,
    alertsTool,
    rulesTool,
    statusTool,
    // AMP only: listed when an instance has sigv4, refused (not_configured) on the others.
    { ...workspacesTool, availableFor: (config: PrometheusConfig) => Boolean(config.sigv4) },
  ].map(withinBudget),
  prompts,
});
