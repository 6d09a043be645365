import { z } from 'zod';
import { tool } from './common.js';

export const clusterTool = tool({
  name: 'cluster',
  title: 'Cluster status',
  description: 'Cluster name, quorum, and which nodes are online.',
  input: z.object({}),
  output: z.object({
    name: z.string().optional(),
    quorate: z.boolean().optional(),
    nodes: z.array(z.object({ name: z.string(), online: z.boolean(), ip: z.string().optional() })),
  }),
  effect: 'read',
  toolset: 'read',
  run: async (_args, ctx) => {
    const rows = await ctx.client.get<any[]>('/cluster/status', {}, { signal: ctx.signal });
    const cluster = rows.find((r) => r.type === 'cluster');
    const nodes = rows
      .filter((r) => r.type === 'node')
      .map((r) => ({
        name: String(r.name),
        online: r.online === 1 || r.online === true,
        ...(r.ip ? { ip: r.ip } : {}),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const up = nodes.filter((n) => n.online).length;
    const data = {
      ...(cluster ? { name: String(cluster.name), quorate: Boolean(cluster.quorate) } : {}),
      nodes,
    };
    const head = cluster
      ? `cluster ${cluster.name}: ${cluster.quorate ? 'quorate' : 'NOT quorate'}, ${up}/${nodes.length} nodes online`
      : `single node (no cluster): ${up}/${nodes.length} online`;
    const down = nodes.filter((n) => !n.online).map((n) => n.name);
    return {
      data,
      text: [head, down.length ? `offline: ${down.join(', ')}` : ''].filter(Boolean).join('\n'),
    };
  },
});
