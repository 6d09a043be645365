import { definePlugin } from '@infra-mcp/core';
import { applyDestructiveTool, applyWriteTool } from '../tools/terraform/apply.js';
import { fmtCheckTool } from '../tools/terraform/fmt-check.js';
import { outputTool } from '../tools/terraform/output.js';
import { planTool } from '../tools/terraform/plan.js';
import { stateListTool } from '../tools/terraform/state-list.js';
import { validateTool } from '../tools/terraform/validate.js';
import { VERSION } from '../version.js';
import { makeClient } from './cli.js';
import { terraformConfig } from './config.js';

/**
 * Terraform or OpenTofu through a safe runner: validate, fmt check, plan summaries, apply of exactly
 * the reviewed plan file, state list, outputs (sensitive ones redacted).
 *
 *   createServer({ plugins: [terraform({ root: '/srv/infra', binary: 'tofu' })] })
 */
export const terraform = definePlugin({
  id: 'terraform',
  title: 'Terraform / OpenTofu',
  description:
    'Terraform or OpenTofu: validate, fmt check, plan summaries, apply of the reviewed plan, state, outputs',
  version: VERSION,
  config: terraformConfig,
  env: { TERRAFORM_ROOT: 'root', TERRAFORM_BINARY: 'binary' },
  instances: true,
  isConfigured: (config) => Boolean(config.root),
  setup: async (config, { instance, redact, secret }) => makeClient(config, instance, redact, secret),
  tools: [
    validateTool,
    fmtCheckTool,
    planTool,
    applyWriteTool,
    applyDestructiveTool,
    stateListTool,
    outputTool,
  ],
});
