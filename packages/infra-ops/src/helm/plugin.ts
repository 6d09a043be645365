import { definePlugin } from '@infra-mcp/core';
import { lintTool } from '../tools/helm/lint.js';
import { templateTool } from '../tools/helm/template.js';
import { valuesTool } from '../tools/helm/values.js';
import { VERSION } from '../version.js';
import { makeClient } from './cli.js';
import { helmConfig } from './config.js';

/**
 * Helm through the safe runner: render, lint and read the values of charts under a configured root
 * (Secrets and credential-looking values redacted). Release tools (list, status, history, upgrade,
 * rollback, uninstall) are not in this version.
 *
 *   createServer({ plugins: [helm({ chartsRoot: '/srv/charts' })] })
 */
export const helm = definePlugin({
  id: 'helm',
  title: 'Helm',
  description: 'Helm charts: render (template), lint, default values; secrets redacted',
  version: VERSION,
  config: helmConfig,
  env: { HELM_CHARTS_ROOT: 'chartsRoot', HELM_BINARY: 'binary' },
  instances: true,
  isConfigured: (config) => Boolean(config.chartsRoot),
  setup: async (config, { redact }) => makeClient(config, redact),
  tools: [templateTool, lintTool, valuesTool],
});
