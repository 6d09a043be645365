import { ToolError } from '@infra-mcp/core';
import { type Ctx, upidNode } from './common.js';

export interface TaskEnd {
  upid: string;
  status: 'OK';
  seconds: number;
}

/**
 * Wait for a PVE task (UPID) with ctx.poll: progress while it runs; when the call's time runs out,
 * core answers "still running, poll with proxmox_tasks { upid }". A failed task is a task_failed error
 * with the tail of its log.
 */
export async function waitTask(ctx: Ctx, upid: string, what: string, intervalMs = 500): Promise<TaskEnd> {
  const node = upidNode(upid);
  const base = `/nodes/${encodeURIComponent(node)}/tasks/${encodeURIComponent(upid)}`;
  const started = Date.now();
  let checks = 0;
  const status = await ctx.poll(
    async () => {
      checks++;
      const st = await ctx.client.get<any>(`${base}/status`, {}, { signal: ctx.signal });
      if (st.status !== 'running') return { done: true as const, value: String(st.exitstatus ?? 'unknown') };
      return { done: false as const, message: `${what}: task running (${checks} checks)`, status: 'running' };
    },
    { intervalMs, operation: { id: upid, poll: { tool: 'proxmox_tasks', arguments: { upid } } } },
  );
  if (status !== 'OK') {
    const log = await ctx.client
      .get<any[]>(`${base}/log`, { start: 0, limit: 5000 }, { signal: ctx.signal })
      .catch(() => []);
    throw new ToolError(
      'task_failed',
      `${what} failed: ${status}`,
      `the task log says why; proxmox_tasks { upid: "${upid}" } shows it again`,
      { upid, exitstatus: status, log: log.slice(-10).map((l) => String(l.t)) },
    );
  }
  return { upid, status: 'OK', seconds: Math.round((Date.now() - started) / 100) / 10 };
}
