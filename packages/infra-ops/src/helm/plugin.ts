import { definePlugin } from '@infra-mcp/core';
import { historyTool } from '../tools/helm/history.js';
import { lintTool } from '../tools/helm/lint.js';
import { listTool } from '../tools/helm/list.js';
import { rollbackTool } from '../tools/helm/rollback.js';
import { statusTool } from '../tools/helm/status.js';
import { templateTool } from '../tools/helm/template.js';
import { uninstallTool } from '../tools/helm/uninstall.js';
import { upgradeTool } from '../tools/helm/upgrade.js';
import { valuesTool } from '../tools/helm/values.js';
import { VERSION } from '../version.js';
import { makeClient } from './cli.js';
import { helmConfig } from './config.js';

/**
 * Helm through the safe runner: render, lint and read the values of charts under a configured root
 * (Secrets and credential-looking values redacted); list, inspect, install/upgrade (with a diff
 * preview), roll back and uninstall releases on the configured cluster.
 *
 *   createServer({ plugins: [helm({ chartsRoot: '/srv/charts', kubeconfig: '/etc/kube/config' })] })
 */
export const helm = definePlugin({
  id: 'helm',
  title: 'Helm',
  description:
    'Helm charts (template, lint, values) and releases (list, status, history, upgrade, rollback, uninstall)',
  version: VERSION,
  config: helmConfig,
  env: { HELM_CHARTS_ROOT: 'chartsRoot', HELM_BINARY: 'binary' },
  instances: true,
  isConfigured: (config) => Boolean(config.chartsRoot || config.kubeconfig),
  toolsets: {
    charts: {
      description: 'Render, lint and show the values of charts under the charts root',
      default: true,
    },
    releases: { description: 'List releases, their status and history', default: true },
    deploy: { description: 'Install/upgrade, roll back and uninstall releases (dry run first)' },
  },
  setup: async (config, { redact }) => makeClient(config, redact),
  tools: [
    { ...templateTool, toolset: 'charts' },
    { ...lintTool, toolset: 'charts' },
    { ...valuesTool, toolset: 'charts' },
    { ...listTool, toolset: 'releases' },
    { ...statusTool, toolset: 'releases' },
    { ...historyTool, toolset: 'releases' },
    { ...upgradeTool, toolset: 'deploy' },
    { ...rollbackTool, toolset: 'deploy' },
    { ...uninstallTool, toolset: 'deploy' },
  ],
});
