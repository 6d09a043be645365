import { table, tailBytes } from '@infra-mcp/core';
import { z } from 'zod';
import { checkNodeAllowed, onlineNodes, tool, upidNode } from './common.js';

const task = z.object({
  upid: z.string(),
  node: z.string(),
  type: z.string(),
  id: z.string().optional(),
  user: z.string().optional(),
  starttime: z.number().optional(),
  endtime: z.number().optional(),
  status: z.string().describe('running, OK, or the error'),
});

const iso = (s?: number) => (s ? new Date(s * 1000).toISOString().slice(5, 19).replace('T', ' ') : '-');

export const tasksTool = tool({
  name: 'tasks',
  title: 'Tasks',
  description:
    'Recent tasks (newest first) per node, or with upid one task: its status and the tail of its log. Use it to follow a long write.',
  input: z.object({
    upid: z.string().optional().describe('One task: status and log tail'),
    node: z.string().optional().describe('Recent tasks of this node (default: every online node)'),
    vmid: z.number().int().optional().describe('Only tasks of this guest'),
    errors: z.boolean().optional().describe('Only failed tasks'),
    limit: z.number().int().min(1).max(200).default(20).describe('Tasks per node'),
    lines: z.number().int().min(1).max(500).default(20).describe('Log lines (tail) with upid'),
  }),
  output: z.object({
    tasks: z.array(task).optional(),
    task: task.optional(),
    log: z.array(z.string()).optional(),
  }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    if (args.upid) {
      const node = upidNode(args.upid);
      checkNodeAllowed(ctx, node);
      const base = `/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(args.upid)}`;
      const [st, log] = await Promise.all([
        ctx.client.get<any>(`${base}/status`, {}, { signal: ctx.signal }),
        ctx.client.get<any[]>(`${base}/log`, { start: 0, limit: 5000 }, { signal: ctx.signal }),
      ]);
      const t: z.infer<typeof task> = {
        upid: args.upid,
        node,
        type: String(st.type),
        id: st.id ? String(st.id) : undefined,
        user: st.user,
        starttime: st.starttime,
        status: st.status === 'running' ? 'running' : String(st.exitstatus ?? st.status),
      };
      const lines = log.map((l) => String(l.t)).slice(-args.lines);
      const text = [
        `task ${t.type} ${t.id ?? ''} on ${node}: ${t.status} (started ${iso(t.starttime)})`,
        ...lines,
      ];
      return {
        data: { task: t, log: lines },
        text: tailBytes(text.join('\n'), Math.max(256, ctx.budget / 2)),
      };
    }
    if (args.node) checkNodeAllowed(ctx, args.node);
    const nodes = args.node ? [args.node] : await onlineNodes(ctx);
    const params = { limit: args.limit, vmid: args.vmid, errors: args.errors ? 1 : undefined };
    const lists = await Promise.all(
      nodes.map((n) =>
        ctx.client.get<any[]>(`/nodes/${encodeURIComponent(n)}/tasks`, params, { signal: ctx.signal }),
      ),
    );
    const tasks = lists
      .flat()
      .map(
        (r): z.infer<typeof task> => ({
          upid: String(r.upid),
          node: String(r.node),
          type: String(r.type),
          id: r.id ? String(r.id) : undefined,
          user: r.user,
          starttime: r.starttime,
          endtime: r.endtime,
          status: r.endtime ? String(r.status ?? 'unknown') : 'running',
        }),
      )
      .sort((a, b) => (b.starttime ?? 0) - (a.starttime ?? 0));
    const text = table(
      ['start', 'node', 'type', 'id', 'user', 'status', 'upid'],
      tasks.map((t) => [iso(t.starttime), t.node, t.type, t.id ?? '', t.user ?? '', t.status, t.upid]),
    );
    return { data: { tasks }, text: tasks.length ? text : 'no tasks' };
  },
});
