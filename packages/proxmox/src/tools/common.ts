import { checkAllowed, type ToolContext, ToolError, toolkit } from '@infra-mcp/core';
import { z } from 'zod';
import type { PveClient } from '../client.js';
import type { ProxmoxConfig } from '../config.js';

export type Ctx = ToolContext<PveClient, ProxmoxConfig> & { config: ProxmoxConfig };

/** Proxmox tools: `ctx.client` is the instance's PveClient, `ctx.config` its options. */
export const tool = toolkit<PveClient, ProxmoxConfig>();

export const vmidArg = z.number().int().min(100).max(999_999_999).describe('Guest id (VM or container)');

/** A guest as /cluster/resources lists it. */
export interface Guest {
  vmid: number;
  node: string;
  type: 'qemu' | 'lxc';
  name?: string;
  status: string;
  pool?: string;
  tags?: string;
  template?: number;
  cpu?: number;
  maxcpu?: number;
  mem?: number;
  maxmem?: number;
  uptime?: number;
  lock?: string;
}

export const where = (ctx: Ctx) => `proxmox instance "${ctx.instance}"`;

/** Allow-lists on node, vmid and pool. */
export function checkGuestAllowed(ctx: Ctx, g: { vmid: number; node: string; pool?: string }): void {
  const allow = ctx.config.allow;
  const opts = (arg: string) => ({ where: where(ctx), configKey: `plugins.proxmox.allow.${arg}` });
  checkAllowed(allow, 'node', g.node, opts('node'));
  checkAllowed(allow, 'vmid', g.vmid, opts('vmid'));
  if (allow?.pool) checkAllowed(allow, 'pool', g.pool ?? '', opts('pool'));
}

export function checkNodeAllowed(ctx: Ctx, node: string): void {
  checkAllowed(ctx.config.allow, 'node', node, {
    where: where(ctx),
    configKey: 'plugins.proxmox.allow.node',
  });
}

/** Whether a guest passes the allow-lists (for filtering lists instead of refusing). */
export function guestVisible(ctx: Ctx, g: { vmid: number; node: string; pool?: string }): boolean {
  try {
    checkGuestAllowed(ctx, g);
    return true;
  } catch {
    return false;
  }
}

export async function listGuests(ctx: Ctx): Promise<Guest[]> {
  const rows = await ctx.client.get<any[]>('/cluster/resources', { type: 'vm' }, { signal: ctx.signal });
  return rows
    .filter((r) => r.type === 'qemu' || r.type === 'lxc')
    .map((r) => ({ ...r, vmid: Number(r.vmid) }) as Guest)
    .filter((g) => guestVisible(ctx, g));
}

/** The guest with this vmid (its node found from the cluster's resources), allow-lists checked. */
export async function findGuest(ctx: Ctx, vmid: number): Promise<Guest> {
  const rows = await ctx.client.get<any[]>('/cluster/resources', { type: 'vm' }, { signal: ctx.signal });
  const r = rows.find((x) => Number(x.vmid) === vmid && (x.type === 'qemu' || x.type === 'lxc'));
  if (!r)
    throw new ToolError(
      'not_found',
      `no guest ${vmid} on ${where(ctx)}`,
      'proxmox_guests lists the guests and their ids',
    );
  const g = { ...r, vmid } as Guest;
  checkGuestAllowed(ctx, g);
  if (g.status === 'unknown')
    throw new ToolError(
      'node_unreachable',
      `guest ${vmid} is on node ${g.node}, which does not answer (status unknown)`,
      'the node may be offline: check proxmox_nodes and proxmox_cluster',
    );
  return g;
}

export const guestPath = (g: { node: string; type: string; vmid: number }) =>
  `/nodes/${encodeURIComponent(g.node)}/${g.type}/${g.vmid}`;

/** Node of a UPID (`UPID:node:pid:pstart:starttime:type:id:user:`). */
export function upidNode(upid: string): string {
  const m = /^UPID:([^:]+):/.exec(upid);
  if (!m)
    throw new ToolError(
      'bad_argument',
      `"${upid}" is not a UPID`,
      'a UPID looks like UPID:pve1:0000ABCD:...:qmstop:100:root@pam:',
    );
  return m[1]!;
}

export async function onlineNodes(ctx: Ctx): Promise<string[]> {
  const nodes = await ctx.client.get<any[]>('/nodes', {}, { signal: ctx.signal });
  return nodes
    .filter((n) => n.status === 'online')
    .map((n) => String(n.node))
    .filter((n) => {
      try {
        checkNodeAllowed(ctx, n);
        return true;
      } catch {
        return false;
      }
    })
    .sort();
}

export const pct = (x: number | undefined) => (x === undefined ? '-' : `${Math.round(x * 100)}%`);
