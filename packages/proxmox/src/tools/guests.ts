import { listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { type Guest, listGuests, tool } from './common.js';

/** One row: vmid, name, node, type (q = VM, c = container), status, cpu %, memory MiB. */
const row = z.tuple([z.number(), z.string(), z.string(), z.string(), z.string(), z.number(), z.number()]);
const COLUMNS = ['vmid', 'name', 'node', 'type', 'status', 'cpu%', 'memMiB'] as const;

export const guestsTool = tool({
  name: 'guests',
  title: 'Guests',
  description:
    'VMs and containers across the cluster, compact (type q=VM c=container; cpu%; memory MiB). Filters combine.',
  input: listInput({
    node: z.string().optional().describe('Only guests on this node'),
    type: z.enum(['qemu', 'lxc']).optional().describe('qemu (VMs) or lxc (containers)'),
    status: z.string().optional().describe('running, stopped, paused, ...'),
    name: z.string().optional().describe('Name contains (case-insensitive)'),
    tag: z.string().optional().describe('Has this tag'),
    pool: z.string().optional().describe('In this pool'),
  }),
  output: listOutput({
    total: z.number().describe('Guests after filters'),
    columns: z.array(z.string()),
    rows: z.array(row),
  }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    const list = pager('guests', ctx, args);
    const name = args.name?.toLowerCase();
    const all = (await listGuests(ctx))
      .filter(
        (g) =>
          (!args.node || g.node === args.node) &&
          (!args.type || g.type === args.type) &&
          (!args.status || g.status === args.status) &&
          (!name || (g.name ?? '').toLowerCase().includes(name)) &&
          (!args.tag || (g.tags ?? '').split(/[;, ]/).includes(args.tag)) &&
          (!args.pool || g.pool === args.pool),
      )
      .sort((a, b) => a.vmid - b.vmid);
    const toRow = (g: Guest): z.infer<typeof row> => [
      g.vmid,
      g.name ?? '',
      g.node,
      g.type === 'qemu' ? 'q' : 'c',
      g.status,
      Math.round((g.cpu ?? 0) * 100),
      Math.round((g.mem ?? 0) / 1048576),
    ];
    const line = (g: Guest) => toRow(g).join(' ');
    return list.page({
      items: all,
      line,
      what: 'guests',
      narrow: 'node, type, status, name, tag or pool',
      data: (page) => ({ total: all.length, columns: [...COLUMNS], rows: page.items.map(toRow) }),
      text: (page, range) => [`${all.length} guests${range} (${COLUMNS.join(' ')})`, ...page.items.map(line)],
    });
  },
});
