import { checkAnswer, definePlugin, definePrompt, type ToolDefinition } from '@infra-mcp/core';
import { z } from 'zod';
import { PveClient } from './client.js';
import { configSchema, envMap, type ProxmoxConfig } from './config.js';
import { backupsTool } from './tools/backups.js';
import { clusterTool } from './tools/cluster.js';
import { execTool } from './tools/exec.js';
import { guestTool } from './tools/guest.js';
import { guestPowerTool, guestStopTool } from './tools/guest-power.js';
import { guestsTool } from './tools/guests.js';
import { metricsTool } from './tools/metrics.js';
import { nodesTool } from './tools/nodes.js';
import {
  snapshotCreateTool,
  snapshotDeleteTool,
  snapshotRollbackTool,
  snapshotsTool,
} from './tools/snapshot.js';
import { storageTool } from './tools/storage.js';
import { tasksTool } from './tools/tasks.js';

export const VERSION = '0.1.0';

function withinBudget<T extends ToolDefinition<any, any, PveClient, any, ProxmoxConfig>>(tool: T): T {
  return {
    ...tool,
    run: async (args, ctx, plan) => {
      const result = await tool.run(args, ctx, plan);
      checkAnswer(`proxmox_${tool.name}`, result, ctx.budget);
      return result;
    },
  };
}

const diagnosePrompt = definePrompt({
  name: 'diagnose_guest',
  description: 'Why a guest will not start: which tools to call, in order',
  args: z.object({ vmid: z.string().describe('Guest id') }),
  render: ({ vmid }) => [
    {
      role: 'user',
      text: `Guest ${vmid} will not start. 1) proxmox_guest { vmid: ${vmid} }: state, lock, config. 2) proxmox_tasks { vmid: ${vmid}, errors: true }, then proxmox_tasks { upid } of the last failed start for its log. 3) proxmox_nodes and proxmox_storage for the node's memory and the disks' storage. Explain the cause before proposing proxmox_guest_power.`,
    },
  ],
});

/**
 * Proxmox VE clusters through proxmox-api: nodes, guests, storage, tasks, metrics, backups; power
 * actions, snapshots and guest-agent exec as two-phase writes that wait for their PVE task.
 */
export const proxmox = definePlugin({
  id: 'proxmox',
  title: 'Proxmox VE',
  description:
    'Proxmox VE: cluster, nodes, VMs and containers, storage, tasks, metrics, backups; power, snapshots, exec',
  version: VERSION,
  config: configSchema,
  env: envMap,
  instances: true,
  isConfigured: (config) => Boolean(config.url),
  toolsets: {
    read: { description: 'Cluster, nodes, guests, one guest, storage, tasks', default: true },
    observe: { description: 'RRD metrics and backups' },
    power: { description: 'Start, shutdown, reboot, suspend, resume, stop (two-phase)', default: true },
    snapshot: { description: 'List, create, roll back, delete snapshots (two-phase)' },
    exec: { description: 'Guest-agent commands (only where exec.enabled)' },
  },
  setup: async (config, { instance, log }) => new PveClient(config, instance, log),
  dispose: (client) => client.close(),
  health: async (client) => {
    const v = await client.get<{ version?: string; release?: string }>(
      '/version',
      {},
      {
        signal: AbortSignal.timeout(client.config.timeoutMs),
      },
    );
    return { ok: true, message: `pve ${v.version ?? '?'} at ${client.label}` };
  },
  tools: [
    clusterTool,
    nodesTool,
    guestsTool,
    guestTool,
    storageTool,
    tasksTool,
    metricsTool,
    backupsTool,
    guestPowerTool,
    guestStopTool,
    snapshotsTool,
    snapshotCreateTool,
    snapshotRollbackTool,
    snapshotDeleteTool,
    { ...execTool, availableFor: (config: ProxmoxConfig) => config.exec.enabled },
  ].map(withinBudget),
  prompts: [diagnosePrompt],
});
