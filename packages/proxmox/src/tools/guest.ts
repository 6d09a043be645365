import { humanBytes, humanDuration } from '@infra-mcp/core';
import { z } from 'zod';
import { findGuest, guestPath, pct, tool, vmidArg } from './common.js';

/** Config keys left out: noise or secrets. */
const HIDDEN = new Set(['digest', 'cipassword', 'sshkeys', 'meta', 'vmgenid', 'smbios1']);

export const guestTool = tool({
  name: 'guest',
  title: 'One guest',
  description: 'Current status and configuration of one VM or container by vmid (its node is found).',
  input: z.object({ vmid: vmidArg }),
  output: z.object({
    vmid: z.number(),
    node: z.string(),
    type: z.string(),
    name: z.string().optional(),
    status: z.string(),
    qmpstatus: z.string().optional(),
    uptime: z.number().optional(),
    cpu: z.number().optional(),
    mem: z.number().optional(),
    maxmem: z.number().optional(),
    protection: z.boolean(),
    agent: z.boolean().optional().describe('Guest agent enabled in config'),
    lock: z.string().optional(),
    config: z.record(z.string(), z.string()),
  }),
  effect: 'read',
  toolset: 'read',
  run: async ({ vmid }, ctx) => {
    const g = await findGuest(ctx, vmid);
    const base = guestPath(g);
    const [st, cfg] = await Promise.all([
      ctx.client.get<any>(`${base}/status/current`, {}, { signal: ctx.signal }),
      ctx.client.get<any>(`${base}/config`, {}, { signal: ctx.signal }),
    ]);
    const config = Object.fromEntries(
      Object.entries(cfg ?? {})
        .filter(([k]) => !HIDDEN.has(k))
        .map(([k, v]) => [k, String(v)]),
    );
    const data = {
      vmid,
      node: g.node,
      type: g.type,
      ...((st.name ?? g.name) ? { name: String(st.name ?? g.name) } : {}),
      status: String(st.status),
      ...(st.qmpstatus ? { qmpstatus: String(st.qmpstatus) } : {}),
      uptime: st.uptime,
      cpu: st.cpu,
      mem: st.mem,
      maxmem: st.maxmem,
      protection: String(cfg?.protection ?? '0') === '1',
      ...(g.type === 'qemu' ? { agent: /^(1|enabled=1)/.test(String(cfg?.agent ?? '0')) } : {}),
      ...(st.lock ? { lock: String(st.lock) } : {}),
      config,
    };
    const text = [
      `${g.type === 'qemu' ? 'VM' : 'CT'} ${vmid} ${data.name ?? ''} on ${g.node}: ${data.status}${data.qmpstatus && data.qmpstatus !== data.status ? ` (${data.qmpstatus})` : ''}${data.lock ? `, locked: ${data.lock}` : ''}`,
      `uptime ${st.uptime ? humanDuration(st.uptime) : '-'}, cpu ${pct(st.cpu)}, mem ${humanBytes(st.mem ?? 0)}/${humanBytes(st.maxmem ?? 0)}${data.protection ? ', protected' : ''}${data.agent === false ? ', no guest agent' : ''}`,
      ...Object.entries(config).map(([k, v]) => `${k}: ${v}`),
    ].join('\n');
    return { data, text };
  },
});
