import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, findGuest, guestPath, tool, vmidArg } from './common.js';
import { waitTask } from './wait-task.js';

const result = z.object({
  vmid: z.number(),
  action: z.string(),
  upid: z.string(),
  status: z.string(),
  seconds: z.number(),
});

/** Which current states an action makes sense from. */
const FROM: Record<string, string[]> = {
  start: ['stopped'],
  shutdown: ['running'],
  stop: ['running', 'paused'],
  reboot: ['running'],
  suspend: ['running'],
  resume: ['paused', 'suspended'],
};

async function planPower(ctx: Ctx, vmid: number, action: string, timeout?: number) {
  const g = await findGuest(ctx, vmid);
  const st = await ctx.client.get<any>(`${guestPath(g)}/status/current`, {}, { signal: ctx.signal });
  const state = String(st.qmpstatus ?? st.status);
  if (action === 'stop') {
    const cfg = await ctx.client.get<any>(`${guestPath(g)}/config`, {}, { signal: ctx.signal });
    if (String(cfg.protection ?? '0') === '1')
      throw new ToolError(
        'protected',
        `guest ${vmid} (${g.name ?? g.type}) has protection=1: it is never stopped here`,
        'use proxmox_guest_power action shutdown for a clean shutdown, or have an operator remove the protection',
      );
  }
  if (!FROM[action]!.includes(state))
    throw new ToolError(
      'wrong_state',
      `guest ${vmid} is ${state}: ${action} applies to ${FROM[action]!.join(' or ')} guests`,
      'proxmox_guest shows its state',
    );
  const path = `${guestPath(g)}/status/${action}`;
  const params = action === 'shutdown' && timeout ? { timeout } : {};
  return {
    change: { vmid, node: g.node, type: g.type, action, from: state, request: `POST ${path}`, params },
    preview: {
      guest: `${g.type === 'qemu' ? 'VM' : 'CT'} ${vmid} ${g.name ?? ''}`.trim(),
      node: g.node,
      state,
      request: `POST /api2/json${path}`,
      params,
    },
    summary: `${action} ${g.type === 'qemu' ? 'VM' : 'CT'} ${vmid} (${g.name ?? '-'}) on ${g.node}, now ${state}`,
  };
}

async function runPower(ctx: Ctx, vmid: number, action: string, change: any) {
  const upid = await ctx.client.post<string>(change.request.slice(5), change.params, { signal: ctx.signal });
  await ctx.progress(0, undefined, `${action} ${vmid}: task ${upid}`);
  const end = await waitTask(ctx, upid, `${action} of guest ${vmid}`);
  return {
    data: { vmid, action, upid, status: end.status, seconds: end.seconds },
    text: `${action} of guest ${vmid} done (${end.seconds}s, task ${upid})`,
  };
}

export const guestPowerTool = tool({
  name: 'guest_power',
  title: 'Start, shut down, reboot, suspend or resume a guest',
  description:
    'Power action on a VM or container; waits for its task. Dry run first (returns approval). Hard stop: proxmox_guest_stop.',
  input: z.object({
    vmid: vmidArg,
    action: z.enum(['start', 'shutdown', 'reboot', 'suspend', 'resume']),
    timeout: z.number().int().positive().optional().describe('shutdown: seconds before PVE gives up'),
  }),
  output: result,
  effect: 'write',
  toolset: 'power',
  plan: async ({ vmid, action, timeout }, ctx) => planPower(ctx, vmid, action, timeout),
  run: async ({ vmid, action }, ctx, plan) => runPower(ctx, vmid, action, plan!.change),
});

export const guestStopTool = tool({
  name: 'guest_stop',
  title: 'Stop a guest at once',
  description:
    'Hard stop (power off) of a VM or container; waits for its task. Protected guests are refused.',
  input: z.object({ vmid: vmidArg }),
  output: result,
  effect: 'destructive',
  toolset: 'power',
  plan: async ({ vmid }, ctx) => planPower(ctx, vmid, 'stop'),
  run: async ({ vmid }, ctx, plan) => runPower(ctx, vmid, 'stop', plan!.change),
});
