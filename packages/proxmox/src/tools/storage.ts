import { humanBytes, table } from '@infra-mcp/core';
import { z } from 'zod';
import { checkNodeAllowed, onlineNodes, tool } from './common.js';

const store = z.object({
  node: z.string(),
  storage: z.string(),
  type: z.string(),
  content: z.string(),
  active: z.boolean(),
  shared: z.boolean(),
  used: z.number().optional(),
  total: z.number().optional(),
});

export const storageTool = tool({
  name: 'storage',
  title: 'Storage',
  description: 'Storage pools per node with type, content types and usage.',
  input: z.object({ node: z.string().optional().describe('One node (default: every online node)') }),
  output: z.object({ storage: z.array(store) }),
  effect: 'read',
  toolset: 'read',
  run: async ({ node }, ctx) => {
    if (node) checkNodeAllowed(ctx, node);
    const nodes = node ? [node] : await onlineNodes(ctx);
    const lists = await Promise.all(
      nodes.map(async (n) =>
        (
          await ctx.client.get<any[]>(`/nodes/${encodeURIComponent(n)}/storage`, {}, { signal: ctx.signal })
        ).map(
          (s): z.infer<typeof store> => ({
            node: n,
            storage: String(s.storage),
            type: String(s.type),
            content: String(s.content ?? ''),
            active: s.active === 1 || s.active === true,
            shared: s.shared === 1 || s.shared === true,
            used: s.used,
            total: s.total,
          }),
        ),
      ),
    );
    const storage = lists.flat();
    const text = table(
      ['node', 'storage', 'type', 'content', 'used', 'state'],
      storage.map((s) => [
        s.node,
        s.storage,
        s.type,
        s.content,
        s.total
          ? `${humanBytes(s.used ?? 0)}/${humanBytes(s.total)} ${Math.round(((s.used ?? 0) / s.total) * 100)}%`
          : '-',
        `${s.active ? 'active' : 'INACTIVE'}${s.shared ? ' shared' : ''}`,
      ]),
    );
    return { data: { storage }, text };
  },
});
