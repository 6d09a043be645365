import { isToolError, maxBytesArg, ToolError, table } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { namespaceOf, tool } from '../common.js';

export const topTool = tool({
  name: 'top',
  title: 'Resource usage',
  description: 'CPU and memory of pods (a namespace) or nodes, from metrics.k8s.io (metrics-server).',
  input: z.object({
    maxBytes: maxBytesArg,
    of: z.enum(['pods', 'nodes']).default('pods'),
    namespace: z.string().optional().describe("Namespace for pods (default: the context's)"),
  }),
  output: z.object({ rows: z.array(z.array(z.string())) }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    const ns = args.of === 'pods' ? namespaceOf(ctx, args.namespace) : undefined;
    const path = ns
      ? `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(ns)}/pods`
      : '/apis/metrics.k8s.io/v1beta1/nodes';
    let res: Obj;
    try {
      res = await ctx.client.get<Obj>(path, { signal: ctx.signal });
    } catch (err) {
      if (isToolError(err) && err.code === 'not_found')
        throw new ToolError(
          'not_supported',
          'this cluster serves no metrics.k8s.io API: metrics-server is not installed',
          'install metrics-server, or use a Prometheus plugin for usage',
        );
      throw err;
    }
    const rows = (res.items ?? []).map((m: Obj) => {
      const usage =
        m.usage ??
        (m.containers ?? []).reduce(
          (acc: Obj, c: Obj) => ({
            cpu: `${acc.cpu ? `${acc.cpu}+` : ''}${c.usage?.cpu}`,
            memory: `${acc.memory ? `${acc.memory}+` : ''}${c.usage?.memory}`,
          }),
          {},
        );
      return [m.metadata?.name ?? '', String(usage.cpu ?? ''), String(usage.memory ?? '')];
    });
    return { data: { rows }, text: table(['NAME', 'CPU', 'MEMORY'], rows) };
  },
});
