import { ToolError, table } from '@infra-mcp/core';
import { z } from 'zod';
import { checkNodeAllowed, findGuest, guestPath, tool } from './common.js';

const FIELDS = ['cpu', 'mem', 'maxmem', 'loadavg', 'netin', 'netout', 'diskread', 'diskwrite', 'iowait'];
const stat = z.object({
  min: z.number(),
  avg: z.number(),
  max: z.number(),
  last: z.number(),
  points: z.number(),
});

export const metricsTool = tool({
  name: 'metrics',
  title: 'RRD metrics',
  description:
    'CPU, memory, network and disk IO of a node or guest over an hour, day or week: min/avg/max/last per series and a coarse shape.',
  input: z.object({
    vmid: z.number().int().optional().describe('A guest (else node)'),
    node: z.string().optional().describe('A node (when no vmid)'),
    timeframe: z.enum(['hour', 'day', 'week']).default('hour'),
  }),
  output: z.object({
    target: z.string(),
    timeframe: z.string(),
    series: z.record(z.string(), stat.extend({ shape: z.array(z.number()) })),
  }),
  effect: 'read',
  toolset: 'observe',
  run: async ({ vmid, node, timeframe }, ctx) => {
    let path: string;
    let target: string;
    if (vmid !== undefined) {
      const g = await findGuest(ctx, vmid);
      path = `${guestPath(g)}/rrddata`;
      target = `${g.type === 'qemu' ? 'VM' : 'CT'} ${vmid}`;
    } else if (node) {
      checkNodeAllowed(ctx, node);
      path = `/nodes/${encodeURIComponent(node)}/rrddata`;
      target = `node ${node}`;
    } else throw new ToolError('bad_argument', 'give vmid or node', 'e.g. { vmid: 100 }');
    const rows = await ctx.client.get<any[]>(path, { timeframe, cf: 'AVERAGE' }, { signal: ctx.signal });
    const series: Record<string, z.infer<typeof stat> & { shape: number[] }> = {};
    for (const f of FIELDS) {
      const v = rows.map((r) => r[f]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
      if (!v.length) continue;
      const r3 = (x: number) => Number(x.toPrecision(3));
      const step = Math.max(1, Math.ceil(v.length / 12));
      const shape: number[] = [];
      for (let i = 0; i < v.length; i += step) {
        const part = v.slice(i, i + step);
        shape.push(r3(part.reduce((a, b) => a + b, 0) / part.length));
      }
      series[f] = {
        min: r3(Math.min(...v)),
        avg: r3(v.reduce((a, b) => a + b, 0) / v.length),
        max: r3(Math.max(...v)),
        last: r3(v[v.length - 1]!),
        points: v.length,
        shape,
      };
    }
    const text = [
      `${target}, last ${timeframe} (${rows.length} points; cpu is a fraction of its cores, bytes and bytes/s)`,
      table(
        ['series', 'min', 'avg', 'max', 'last'],
        Object.entries(series).map(([k, s]) => [k, s.min, s.avg, s.max, s.last].map(String)),
      ),
    ].join('\n');
    return { data: { target, timeframe, series }, text };
  },
});
