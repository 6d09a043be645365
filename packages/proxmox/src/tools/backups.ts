import { humanBytes, listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { checkNodeAllowed, onlineNodes, tool } from './common.js';

const backup = z.object({
  volid: z.string(),
  node: z.string(),
  storage: z.string(),
  vmid: z.number().optional(),
  ctime: z.number().optional(),
  size: z.number().optional(),
  notes: z.string().optional(),
  protected: z.boolean().optional(),
});
type Backup = z.infer<typeof backup>;

export const backupsTool = tool({
  name: 'backups',
  title: 'Backups',
  description: 'vzdump backups on backup-capable storage, newest first; filter by guest or node.',
  input: listInput({
    vmid: z.number().int().optional().describe('Only backups of this guest'),
    node: z.string().optional().describe('Only storage seen from this node'),
  }),
  output: listOutput({ total: z.number(), backups: z.array(backup) }),
  effect: 'read',
  toolset: 'observe',
  run: async (args, ctx) => {
    const list = pager('backups', ctx, args);
    if (args.node) checkNodeAllowed(ctx, args.node);
    const nodes = args.node ? [args.node] : await onlineNodes(ctx);
    const seen = new Set<string>();
    const all: Backup[] = [];
    for (const n of nodes) {
      const stores = await ctx.client.get<any[]>(
        `/nodes/${encodeURIComponent(n)}/storage`,
        { content: 'backup' },
        { signal: ctx.signal },
      );
      for (const s of stores) {
        // shared storage shows the same backups from every node: read it once
        const key = s.shared ? String(s.storage) : `${n}/${s.storage}`;
        if (seen.has(key) || s.active === 0) continue;
        seen.add(key);
        const items = await ctx.client.get<any[]>(
          `/nodes/${encodeURIComponent(n)}/storage/${encodeURIComponent(s.storage)}/content`,
          { content: 'backup', vmid: args.vmid },
          { signal: ctx.signal },
        );
        for (const b of items)
          all.push({
            volid: String(b.volid),
            node: n,
            storage: String(s.storage),
            vmid: b.vmid === undefined ? undefined : Number(b.vmid),
            ctime: b.ctime,
            size: b.size,
            ...(b.notes ? { notes: String(b.notes) } : {}),
            ...(b.protected ? { protected: true } : {}),
          });
      }
    }
    all.sort((a, b) => (b.ctime ?? 0) - (a.ctime ?? 0) || a.volid.localeCompare(b.volid));
    const line = (b: Backup) =>
      `${b.ctime ? new Date(b.ctime * 1000).toISOString().slice(0, 16) : '-'} ${b.vmid ?? '-'} ${humanBytes(b.size ?? 0)} ${b.volid}${b.protected ? ' protected' : ''}`;
    return list.page({
      items: all,
      line,
      what: 'backups',
      narrow: 'vmid or node',
      data: (page) => ({ total: all.length, backups: page.items }),
      text: (page, range) => [
        `${all.length} backups${range} (time vmid size volid)`,
        ...page.items.map(line),
      ],
    });
  },
});
