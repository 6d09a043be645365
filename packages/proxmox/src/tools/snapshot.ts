import { ToolError, table } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, findGuest, guestPath, tool, vmidArg } from './common.js';
import { waitTask } from './wait-task.js';

const snapname = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{1,39}$/)
  .describe('Snapshot name (letter first; letters, digits, _ -)');
const snap = z.object({
  name: z.string(),
  description: z.string().optional(),
  snaptime: z.number().optional(),
  parent: z.string().optional(),
  vmstate: z.boolean().optional(),
});

async function snapshotsOf(ctx: Ctx, vmid: number) {
  const g = await findGuest(ctx, vmid);
  const rows = await ctx.client.get<any[]>(`${guestPath(g)}/snapshot`, {}, { signal: ctx.signal });
  const snaps = rows
    .filter((r) => r.name !== 'current')
    .map((r) => ({
      name: String(r.name),
      ...(r.description ? { description: String(r.description).trim() } : {}),
      ...(r.snaptime ? { snaptime: Number(r.snaptime) } : {}),
      ...(r.parent ? { parent: String(r.parent) } : {}),
      ...(r.vmstate ? { vmstate: true } : {}),
    }));
  return { g, snaps };
}

export const snapshotsTool = tool({
  name: 'snapshots',
  title: 'Snapshots of a guest',
  description: 'Snapshots of one VM or container, oldest first.',
  input: z.object({ vmid: vmidArg }),
  output: z.object({ vmid: z.number(), snapshots: z.array(snap) }),
  effect: 'read',
  toolset: 'snapshot',
  run: async ({ vmid }, ctx) => {
    const { snaps } = await snapshotsOf(ctx, vmid);
    snaps.sort((a, b) => (a.snaptime ?? 0) - (b.snaptime ?? 0));
    const text = snaps.length
      ? table(
          ['name', 'time', 'parent', 'description'],
          snaps.map((s) => [
            s.name,
            s.snaptime ? new Date(s.snaptime * 1000).toISOString().slice(0, 16) : '-',
            s.parent ?? '-',
            s.description ?? '',
          ]),
        )
      : `guest ${vmid} has no snapshots`;
    return { data: { vmid, snapshots: snaps }, text };
  },
});

const result = z.object({
  vmid: z.number(),
  snapshot: z.string(),
  action: z.string(),
  upid: z.string(),
  seconds: z.number(),
});

function snapshotTool(action: 'create' | 'rollback' | 'delete') {
  return tool({
    name: `snapshot_${action}`,
    title: `${action[0]!.toUpperCase()}${action.slice(1)} a snapshot`,
    description:
      action === 'create'
        ? 'Take a snapshot of a guest; waits for its task. Dry run first.'
        : action === 'rollback'
          ? 'Roll a guest back to a snapshot (its current state is lost); waits for its task.'
          : 'Delete a snapshot; waits for its task.',
    input: z.object({
      vmid: vmidArg,
      name: snapname,
      ...(action === 'create'
        ? { description: z.string().max(500).optional().describe('Snapshot description') }
        : {}),
    }),
    output: result,
    effect: action === 'create' ? 'write' : 'destructive',
    toolset: 'snapshot',
    plan: async (input, ctx) => {
      const args = input as { vmid: number; name: string; description?: string };
      const { g, snaps } = await snapshotsOf(ctx, args.vmid);
      const exists = snaps.some((s) => s.name === args.name);
      if (action === 'create' && exists)
        throw new ToolError(
          'exists',
          `guest ${args.vmid} already has a snapshot "${args.name}"`,
          'pick another name (proxmox_snapshots lists them)',
        );
      if (action !== 'create' && !exists)
        throw new ToolError(
          'not_found',
          `guest ${args.vmid} has no snapshot "${args.name}"`,
          'proxmox_snapshots lists them',
        );
      const base = `${guestPath(g)}/snapshot`;
      const request =
        action === 'create'
          ? `POST ${base}`
          : action === 'rollback'
            ? `POST ${base}/${args.name}/rollback`
            : `DELETE ${base}/${args.name}`;
      const params =
        action === 'create'
          ? { snapname: args.name, ...(args.description ? { description: args.description } : {}) }
          : {};
      return {
        change: { vmid: args.vmid, node: g.node, type: g.type, action, snapshot: args.name, request, params },
        preview: { request: request.replace(' ', ' /api2/json'), params },
        summary: `${action} snapshot "${args.name}" of ${g.type === 'qemu' ? 'VM' : 'CT'} ${args.vmid} on ${g.node}`,
      };
    },
    run: async (args, ctx, plan) => {
      const c = plan!.change as { request: string; params: Record<string, string> };
      const [method, path] = c.request.split(' ') as [string, string];
      const upid = await ctx.client.request<string>(method, path, c.params, { signal: ctx.signal });
      const end = await waitTask(ctx, upid, `snapshot ${action} of guest ${args.vmid}`);
      return {
        data: { vmid: args.vmid, snapshot: args.name, action, upid, seconds: end.seconds },
        text: `snapshot ${action} "${args.name}" of guest ${args.vmid} done (${end.seconds}s)`,
      };
    },
  });
}

export const snapshotCreateTool = snapshotTool('create');
export const snapshotRollbackTool = snapshotTool('rollback');
export const snapshotDeleteTool = snapshotTool('delete');
