import { definePlugin } from '@infra-mcp/core';
import { appTool } from '../tools/argocd/app.js';
import { appsTool } from '../tools/argocd/apps.js';
import { refreshTool } from '../tools/argocd/refresh.js';
import { rollbackTool } from '../tools/argocd/rollback.js';
import { syncPruneTool, syncWriteTool } from '../tools/argocd/sync.js';
import { VERSION } from '../version.js';
import { ArgocdClient } from './client.js';
import { argocdConfig } from './config.js';

/**
 * Argo CD over its REST API: compact app lists, one app with its resource tree summarised, and
 * sync / rollback previewed by Argo CD's own dry run before anything changes.
 *
 *   createServer({ plugins: [argocd({ url: 'https://argocd.example.com', token })] })
 */
export const argocd = definePlugin({
  id: 'argocd',
  title: 'Argo CD',
  description: 'Argo CD applications: list, inspect, refresh, sync (dry run first), rollback',
  version: VERSION,
  config: argocdConfig,
  env: { ARGOCD_URL: 'url', ARGOCD_TOKEN: 'token' },
  instances: true,
  isConfigured: (config) => Boolean(config.url),
  setup: async (config, { instance, log, redact, backend }) =>
    new ArgocdClient(config, instance, log, redact, backend),
  health: async (client) => {
    await client.api('GET', 'applications', {
      query: [['fields', 'items.metadata.name']],
      signal: AbortSignal.timeout(client.config.timeoutMs),
    });
    return { ok: true, message: `Argo CD answers at ${client.config.url}` };
  },
  tools: [appsTool, appTool, refreshTool, syncWriteTool, syncPruneTool, rollbackTool],
});
