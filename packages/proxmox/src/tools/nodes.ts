import { humanBytes, humanDuration, table } from '@infra-mcp/core';
import { z } from 'zod';
import { checkNodeAllowed, pct, tool } from './common.js';

const node = z.object({
  node: z.string(),
  status: z.string(),
  cpu: z.number().optional().describe('Fraction of maxcpu in use'),
  maxcpu: z.number().optional(),
  mem: z.number().optional(),
  maxmem: z.number().optional(),
  disk: z.number().optional().describe('Root filesystem bytes used'),
  maxdisk: z.number().optional(),
  uptime: z.number().optional().describe('Seconds'),
  version: z.string().optional().describe('pve-manager version (with node)'),
});

export const nodesTool = tool({
  name: 'nodes',
  title: 'Nodes',
  description: 'Nodes with status, cpu, memory, root disk and uptime; with node set, also its PVE version.',
  input: z.object({ node: z.string().optional().describe('One node, with its version') }),
  output: z.object({ nodes: z.array(node) }),
  effect: 'read',
  toolset: 'read',
  run: async ({ node: only }, ctx) => {
    if (only) checkNodeAllowed(ctx, only);
    const rows = await ctx.client.get<any[]>('/nodes', {}, { signal: ctx.signal });
    const nodes: z.infer<typeof node>[] = rows
      .filter((r) => !only || r.node === only)
      .map((r) => ({
        node: String(r.node),
        status: String(r.status ?? 'unknown'),
        cpu: r.cpu,
        maxcpu: r.maxcpu,
        mem: r.mem,
        maxmem: r.maxmem,
        disk: r.disk,
        maxdisk: r.maxdisk,
        uptime: r.uptime,
      }))
      .sort((a, b) => a.node.localeCompare(b.node));
    if (only && nodes[0]?.status === 'online') {
      const st = await ctx.client.get<any>(
        `/nodes/${encodeURIComponent(only)}/status`,
        {},
        { signal: ctx.signal },
      );
      if (st?.pveversion) nodes[0].version = String(st.pveversion);
    }
    const text = table(
      ['node', 'status', 'cpu', 'mem', 'disk', 'uptime', ...(only ? ['version'] : [])],
      nodes.map((n) => [
        n.node,
        n.status,
        n.maxcpu ? `${pct(n.cpu)} of ${n.maxcpu}` : '-',
        n.maxmem ? `${humanBytes(n.mem ?? 0)}/${humanBytes(n.maxmem)}` : '-',
        n.maxdisk ? `${humanBytes(n.disk ?? 0)}/${humanBytes(n.maxdisk)}` : '-',
        n.uptime ? humanDuration(n.uptime) : '-',
        ...(only ? [n.version ?? '-'] : []),
      ]),
    );
    return { data: { nodes }, text: only && nodes.length === 0 ? `no node ${only}` : text };
  },
});
