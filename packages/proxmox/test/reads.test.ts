import type { TestClient } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigCluster, type FakePve } from './fake-pve.js';
import { connectTo, startFake } from './helpers.js';

let fake: FakePve;
let t: TestClient;
beforeAll(async () => {
  fake = await startFake();
  t = await connectTo(fake);
});
afterAll(async () => {
  await t.close();
  await fake.close();
});

describe('read tools', () => {
  it('cluster: quorum and nodes online', async () => {
    const r = await t.call('proxmox_cluster');
    expect(r.text).toBe('cluster lab: quorate, 2/2 nodes online');
    expect(r.structured.nodes).toEqual([
      { name: 'pve1', online: true, ip: '10.0.0.1' },
      { name: 'pve2', online: true, ip: '10.0.0.2' },
    ]);
  });

  it('nodes: usage, and the version of one node', async () => {
    const r = await t.call('proxmox_nodes', { node: 'pve1' });
    expect(r.structured.nodes[0]).toMatchObject({
      node: 'pve1',
      status: 'online',
      version: 'pve-manager/9.0.3/a1b2c3d4',
    });
    expect(r.text).toMatch(/pve1\s+online\s+5% of 16/);
  });

  it('guests: VMs and containers alike, compact rows, filters', async () => {
    const all = await t.call('proxmox_guests');
    expect(all.structured.rows).toEqual([
      [100, 'web-01', 'pve1', 'q', 'running', 3, 1229],
      [101, 'db-01', 'pve1', 'q', 'running', 3, 1229],
      [102, 'build', 'pve2', 'q', 'stopped', 0, 0],
      [200, 'dns', 'pve2', 'c', 'running', 3, 1229],
    ]);
    expect(all.text.split('\n')).toContain('200 dns pve2 c running 3 1229');
    const lxc = await t.call('proxmox_guests', { type: 'lxc' });
    expect(lxc.structured.rows.map((r: unknown[]) => r[0])).toEqual([200]);
    const tagged = await t.call('proxmox_guests', { tag: 'prod' });
    expect(tagged.structured.rows.map((r: unknown[]) => r[0])).toEqual([100]);
    const pool = await t.call('proxmox_guests', { pool: 'prod', status: 'running', name: 'DB' });
    expect(pool.structured.rows.map((r: unknown[]) => r[0])).toEqual([101]);
  });

  it('guest: status and config by vmid, its node found, secrets of the config left out', async () => {
    const r = await t.call('proxmox_guest', { vmid: 101 });
    expect(r.structured).toMatchObject({
      vmid: 101,
      node: 'pve1',
      type: 'qemu',
      status: 'running',
      protection: true,
    });
    expect(r.structured.config.digest).toBeUndefined();
    expect(r.text).toMatch(/^VM 101 db-01 on pve1: running/);
    expect(r.text).toMatch(/protected/);
  });

  it('storage per node with usage', async () => {
    const r = await t.call('proxmox_storage', { node: 'pve2' });
    expect(r.structured.storage.map((s: any) => s.storage)).toEqual(['local', 'local-lvm']);
    expect(r.text).toMatch(/local-lvm\s+lvmthin\s+images,rootdir\s+50 ?GiB\/500 ?GiB 10%/);
  });

  it('metrics: rrd summarised per series (min/avg/max/last and a shape)', async () => {
    const r = await t.call('proxmox_metrics', { vmid: 100, timeframe: 'hour' });
    expect(r.structured.series.cpu).toMatchObject({ min: 0.1, max: 0.19, points: 70 });
    expect(r.structured.series.cpu.shape.length).toBeLessThanOrEqual(12);
    expect(r.text).toMatch(/^VM 100, last hour \(70 points/);
  });

  it('backups newest first, per guest', async () => {
    const r = await t.call('proxmox_backups', { vmid: 102 });
    expect(r.structured.backups).toHaveLength(1);
    expect(r.structured.backups[0].volid).toMatch(/vzdump-qemu-102-/);
    const all = await t.call('proxmox_backups');
    const times = all.structured.backups.map((b: any) => b.ctime);
    expect(times).toEqual([...times].sort((a: number, b: number) => b - a));
  });

  it('a small default toolset; writes need their toolsets; exec is not listed unless enabled', async () => {
    const { connect } = await import('@infra-mcp/testing');
    const { proxmox } = await import('../src/index.js');
    const d = await connect([
      proxmox({ url: fake.url, tokenId: 'a@pve!b', tokenSecret: '00000000-0000-0000-0000-000000000000' }),
    ]);
    const names = (await d.listTools()).map((x) => x.name).sort();
    expect(names).toEqual([
      'proxmox_cluster',
      'proxmox_guest',
      'proxmox_guest_power',
      'proxmox_guest_stop',
      'proxmox_guests',
      'proxmox_nodes',
      'proxmox_storage',
      'proxmox_tasks',
    ]);
    const stop = (await d.listTools()).find((x) => x.name === 'proxmox_guest_stop');
    expect(stop.annotations.destructiveHint).toBe(true);
    await d.close();
    expect((await t.listTools()).some((x) => x.name === 'proxmox_exec')).toBe(false);
  });
});

describe('guests: 500 guests over 3 nodes', () => {
  it('pages within the budget with a cursor, every guest once, VMs and containers', async () => {
    const big = await startFake(bigCluster(3, 500));
    const c = await connectTo(big);
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    let textBytes = 0;
    do {
      const r = await c.call('proxmox_guests', { maxBytes: 8192, ...(cursor ? { cursor } : {}) });
      expect(r.isError, r.text).toBe(false);
      expect(Buffer.byteLength(JSON.stringify(r.structured)) + Buffer.byteLength(r.text)).toBeLessThanOrEqual(
        8192,
      );
      seen.push(...r.structured.rows.map((x: unknown[]) => x[0]));
      textBytes += Buffer.byteLength(r.text);
      cursor = r.structured.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 500 }, (_, i) => 100 + i));
    expect(pages).toBeGreaterThan(5);
    expect(textBytes / 500).toBeLessThanOrEqual(50);
    await c.close();
    await big.close();
  });
});

describe('prompts', () => {
  it('diagnose_guest names the tools in order for the guest', async () => {
    const p = await t.client.getPrompt({ name: 'proxmox_diagnose_guest', arguments: { vmid: '102' } });
    const text = (p.messages[0]!.content as { text: string }).text;
    expect(text).toMatch(/proxmox_guest \{ vmid: 102 \}.*proxmox_tasks.*proxmox_nodes/s);
  });
});
