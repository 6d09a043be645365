import { connect } from '@infra-mcp/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proxmox } from '../src/index.js';
import { CERT_FILE, type FakePve, READONLY_TOKEN_ID, READONLY_TOKEN_SECRET } from './fake-pve.js';
import { approve, connectTo, startFake } from './helpers.js';

let fake: FakePve;
beforeEach(async () => {
  fake = await startFake();
});
afterEach(() => fake.close());

describe('bad input: clear errors with hints', () => {
  it('unknown vmid', async () => {
    const t = await connectTo(fake);
    const r = await t.call('proxmox_guest', { vmid: 999 });
    expect(r.errorCode).toBe('not_found');
    expect(r.text).toMatch(/no guest 999 on proxmox instance "default"/);
    expect(r.text).toMatch(/proxmox_guests/);
    await t.close();
  });

  it('a vmid on an offline node', async () => {
    fake.nodes[1]!.online = false;
    const t = await connectTo(fake);
    const r = await t.call('proxmox_guest', { vmid: 200 });
    expect(r.errorCode).toBe('node_unreachable');
    expect(r.text).toMatch(/guest 200 is on node pve2, which does not answer/);
    const c = await t.call('proxmox_cluster');
    expect(c.text).toMatch(/offline: pve2/);
    // a direct request to the offline node: PVE's 595
    const s = await t.call('proxmox_storage', { node: 'pve2' });
    expect(s.errorCode).toBe('node_unreachable');
    await t.close();
  });

  it('a guest agent that is not running', async () => {
    fake.guest(100)!.agentRunning = false;
    const t = await connectTo(fake, { exec: { enabled: true } });
    const r = await approve(t, 'proxmox_exec', { vmid: 100, argv: ['uptime'] });
    expect(r.errorCode).toBe('agent_not_running');
    expect(r.text).toMatch(/QEMU guest agent is not running/);
    expect(r.text).toMatch(/qemu-guest-agent/);
    await t.close();
  });

  it('a command that outlives its time', async () => {
    const t = await connectTo(fake, { exec: { enabled: true, timeoutSeconds: 0.5 } });
    const r = await approve(t, 'proxmox_exec', { vmid: 100, argv: ['sleep', '30'] });
    expect(r.errorCode).toBe('exec_timeout');
    expect(r.text).toMatch(/\["sleep","30"\] in VM 100 still runs after \ds \(pid \d+ in the guest\)/);
    await t.close();
  });

  it('a token without the privilege: the PVE permission path is named', async () => {
    const t = await connect([
      proxmox({
        url: fake.url,
        tokenId: READONLY_TOKEN_ID,
        tokenSecret: READONLY_TOKEN_SECRET,
        tls: { caFile: CERT_FILE },
      }),
    ]);
    expect((await t.call('proxmox_guests')).isError).toBe(false);
    const r = await approve(t, 'proxmox_guest_stop', { vmid: 100 });
    expect(r.errorCode).toBe('forbidden');
    expect(r.text).toMatch(/Permission check failed \(\/vms\/100, VM\.PowerMgmt\)/);
    expect(r.text).toMatch(/pveum acl modify/);
    expect(fake.guest(100)!.status).toBe('running');
    await t.close();
  });

  it('a wrong token secret', async () => {
    const t = await connect([
      proxmox({
        url: fake.url,
        tokenId: READONLY_TOKEN_ID,
        tokenSecret: '99999999-2222-3333-4444-555555555555',
        tls: { caFile: CERT_FILE },
      }),
    ]);
    const r = await t.call('proxmox_cluster');
    expect(r.errorCode).toBe('unauthorized');
    expect(r.text).not.toMatch(/99999999-2222/);
    await t.close();
  });

  it('allow-lists of vmids and nodes', async () => {
    const t = await connectTo(fake, { allow: { vmid: ['{100..199}'], node: ['pve1'] } });
    const g = await t.call('proxmox_guests');
    expect(g.structured.rows.map((r: unknown[]) => r[0])).toEqual([100, 101]);
    const r = await t.call('proxmox_guest_power', { vmid: 200, action: 'shutdown' });
    expect(r.errorCode).toBe('denied_by_policy');
    expect(r.text).toMatch(/node "pve2" is not allowed/);
    await t.close();
  });
});

describe('user and password', () => {
  it('logs in for a ticket, sends CSRF on writes, and logs in again when the ticket expires', async () => {
    const t = await connect([
      proxmox({
        url: fake.url,
        username: 'ops@pve',
        password: 'secret-password',
        tls: { caFile: CERT_FILE },
      }),
    ]);
    expect((await t.call('proxmox_cluster')).isError).toBe(false);
    expect(fake.count('POST', /^\/access\/ticket$/)).toBe(1);
    expect((await approve(t, 'proxmox_guest_power', { vmid: 200, action: 'reboot' })).isError).toBe(false);
    for (const v of fake.tickets.values()) v.expires = 0; // PVE restarted or two hours passed
    const r = await t.call('proxmox_nodes');
    expect(r.isError, r.text).toBe(false);
    expect(fake.count('POST', /^\/access\/ticket$/)).toBe(2);
    await t.close();
  });

  it('a wrong password is a clear error without the password', async () => {
    const t = await connect([
      proxmox({ url: fake.url, username: 'ops@pve', password: 'nope-nope', tls: { caFile: CERT_FILE } }),
    ]);
    const r = await t.call('proxmox_cluster');
    expect(r.isError).toBe(true);
    expect(r.text).not.toMatch(/nope-nope/);
    await t.close();
  });
});
