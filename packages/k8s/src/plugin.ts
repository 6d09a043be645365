import { definePlugin, definePrompt } from '@infra-mcp/core';
import { z } from 'zod';
import type { KubeClient } from './client.js';
import { configSchema, envMap } from './config.js';
import { instancesFrom } from './instances.js';
import { apiResourcesTool } from './tools/api-resources.js';
import { applyTool } from './tools/apply.js';
import { canITool } from './tools/can-i.js';
import { contextsTool } from './tools/contexts.js';
import { deleteTool } from './tools/delete.js';
import { describeTool } from './tools/describe.js';
import { eventsTool } from './tools/events.js';
import { execTool } from './tools/exec.js';
import { getTool } from './tools/get.js';
import { listTool } from './tools/list.js';
import { logsTool } from './tools/logs.js';
import { rolloutRestartTool, rolloutStatusTool } from './tools/rollout.js';
import { rolloutHistoryTool } from './tools/rollout-history.js';
import { rolloutUndoTool } from './tools/rollout-undo.js';
import { scaleTool } from './tools/scale.js';
import { topTool } from './tools/top.js';

export const VERSION = '0.1.0';

/** Where secret values sit in the objects this plugin answers with (core redacts them on every path). */
export const REDACTION_PATHS = [
  // a Secret's values (objects carry their kind: get, list fields, describe, errors, audit)
  '[kind=/^Secret$/].data.*',
  'stringData.*',
  // literal env values whose names look like credentials
  'env[name=/pass(word|wd)?|secret|token|api_?key|credential|private_?key/i].value',
  // kubeconfig credentials, wherever a kubeconfig-shaped value appears
  'user.token',
  'user.password',
  'user.client-key-data',
];

const troubleshoot = definePrompt({
  name: 'troubleshoot_workload',
  description: 'Find why a workload is failing, in the order that answers fastest',
  args: z.object({
    name: z.string().describe('Deployment (or StatefulSet/DaemonSet) name'),
    namespace: z.string().describe('Namespace'),
  }),
  render: ({ name, namespace }) => [
    {
      role: 'user',
      text: `Find why ${name} in ${namespace} is failing. 1. k8s_describe kind=Deployment name=${name} namespace=${namespace}: conditions, events, pods. 2. For a pod not Running or restarting: k8s_describe kind=Pod, then k8s_logs (previous=true after a crash). 3. k8s_events namespace=${namespace} for warnings. Report the cause and the smallest fix; change nothing without a dry run.`,
    },
  ],
});

/**
 * Kubernetes through the API (no kubectl): compact lists, slim objects, logs, events, and writes
 * that are server-side dry runs with a diff first. Each kubeconfig context is an instance.
 *
 *   createServer({ plugins: [k8s({ kubeconfig: '~/.kube/config', readOnlyContexts: ['prod-*'] })] })
 */
export const k8s = definePlugin({
  id: 'k8s',
  title: 'Kubernetes',
  description: 'Kubernetes API: list, get, describe, events, logs, top; server-side dry-run writes',
  version: VERSION,
  config: configSchema,
  env: envMap,
  instances: true,
  instancesFrom,
  toolsets: {
    read: {
      description: 'Contexts, discovery, list, get, describe, events, logs, top, can_i',
      default: true,
    },
    write: {
      description:
        'apply, delete, scale, rollout status, restart, history and undo, exec where enabled (dry run first)',
    },
  },
  redact: { paths: REDACTION_PATHS },
  // the client module (node:https, @kubernetes/client-node) loads at an instance's first call
  setup: async (config, ctx): Promise<KubeClient> =>
    (await import('./client.js')).KubeClient.create(config, ctx),
  health: async (client) => {
    const v = await client.get<{ gitVersion?: string }>('/version');
    return {
      ok: true,
      message: `kubernetes ${v.gitVersion ?? '(unknown version)'} at ${client.server} (context ${client.context})`,
    };
  },
  tools: [
    contextsTool,
    apiResourcesTool,
    listTool,
    getTool,
    describeTool,
    eventsTool,
    logsTool,
    topTool,
    canITool,
    applyTool,
    deleteTool,
    scaleTool,
    rolloutStatusTool,
    rolloutRestartTool,
    rolloutHistoryTool,
    rolloutUndoTool,
    execTool,
  ],
  prompts: [troubleshoot],
});
