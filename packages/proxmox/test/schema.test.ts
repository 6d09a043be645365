/**
 * The PVE API schema is the contract: every request the plugin sends, across every tool, is a
 * (method, path) of the schema with its required parameters and no unknown ones, and every answer
 * of the fake matches the schema's `returns`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakePve } from './fake-pve.js';
import { approve, connectTo, startFake } from './helpers.js';
import { checkRequest, checkReturns, returnsOf, schemaSize } from './schema.js';

let fake: FakePve;
beforeAll(async () => {
  fake = await startFake();
  fake.guest(100)!.snapshots = [{ name: 'before', snaptime: 1_795_000_000, description: 'x' }];
});
afterAll(() => fake.close());

describe('the vendored schema', () => {
  it('is the PVE API tree with its paths', () => {
    expect(schemaSize().paths).toBeGreaterThan(400);
  });
  it('catches unknown paths, unknown and missing parameters, bad types', () => {
    expect(checkRequest('GET', '/nodes/pve1/qemu/100/nosuch', {})).toEqual([
      'GET /nodes/pve1/qemu/100/nosuch is not in the PVE API schema',
    ]);
    expect(checkRequest('POST', '/nodes/pve1/qemu/100/status/stop', { force: '1' })).toEqual([
      'POST /nodes/{node}/qemu/{vmid}/status/stop: unknown parameter force',
    ]);
    expect(checkRequest('POST', '/nodes/pve1/qemu/100/snapshot', {})).toEqual([
      'POST /nodes/{node}/qemu/{vmid}/snapshot: missing required snapname',
    ]);
    expect(checkRequest('GET', '/nodes/pve1/qemu/100/rrddata', { timeframe: 'year2' })[0]).toMatch(
      /timeframe=year2 is not one of/,
    );
    expect(checkReturns(returnsOf('GET', '/nodes/pve1/tasks'), [{ upid: 'x' }]).length).toBeGreaterThan(3);
  });
});

describe('every request the plugin sends is declared in the schema', () => {
  it('across all tools, reads and approved writes', async () => {
    const t = await connectTo(fake, { exec: { enabled: true } });
    const reads: [string, Record<string, unknown>][] = [
      ['proxmox_cluster', {}],
      ['proxmox_nodes', {}],
      ['proxmox_nodes', { node: 'pve1' }],
      ['proxmox_guests', { type: 'qemu' }],
      ['proxmox_guest', { vmid: 100 }],
      ['proxmox_guest', { vmid: 200 }],
      ['proxmox_storage', {}],
      ['proxmox_tasks', {}],
      ['proxmox_tasks', { node: 'pve1', vmid: 100, errors: true }],
      ['proxmox_metrics', { vmid: 100, timeframe: 'day' }],
      ['proxmox_metrics', { vmid: 200 }],
      ['proxmox_metrics', { node: 'pve2' }],
      ['proxmox_backups', {}],
      ['proxmox_backups', { vmid: 100 }],
      ['proxmox_snapshots', { vmid: 100 }],
    ];
    for (const [tool, args] of reads) {
      const r = await t.call(tool, args);
      expect(r.isError, `${tool}: ${r.text}`).toBe(false);
    }
    const writes: [string, Record<string, unknown>][] = [
      ['proxmox_snapshot_create', { vmid: 100, name: 'mcp1', description: 'by a test' }],
      ['proxmox_snapshot_rollback', { vmid: 100, name: 'before' }],
      ['proxmox_snapshot_delete', { vmid: 100, name: 'mcp1' }],
      ['proxmox_guest_power', { vmid: 200, action: 'reboot' }],
      ['proxmox_guest_power', { vmid: 200, action: 'shutdown', timeout: 60 }],
      ['proxmox_guest_power', { vmid: 102, action: 'start' }],
      ['proxmox_guest_stop', { vmid: 102 }],
      ['proxmox_exec', { vmid: 100, argv: ['echo', 'hi'] }],
    ];
    for (const [tool, args] of writes) {
      const r = await approve(t, tool, args);
      expect(r.isError, `${tool}: ${r.text}`).toBe(false);
    }
    const upid = [...fake.tasks.keys()][0]!;
    expect((await t.call('proxmox_tasks', { upid })).isError).toBe(false);
    await t.close();

    const templates = new Set<string>();
    const problems = fake.requests.flatMap((r) => checkRequest(r.method, r.path, r.params));
    for (const r of fake.requests)
      templates.add(`${r.method} ${r.path.replace(/\d{3,}|UPID[^/]*|pve\d/g, '*')}`);
    expect(problems).toEqual([]);
    expect(fake.requests.every((r) => r.status === 200)).toBe(true);
    expect(fake.returnProblems).toEqual([]);
    expect(templates.size).toBeGreaterThan(20);
  });
});
