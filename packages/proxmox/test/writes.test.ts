import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakePve } from './fake-pve.js';
import { approve, connectTo, startFake } from './helpers.js';

let fake: FakePve;
beforeEach(async () => {
  fake = await startFake();
});
afterEach(() => fake.close());

describe('guest power through the write lifecycle', () => {
  it('a dry run shows the exact PVE request and changes nothing; the approved call waits for the task with progress', async () => {
    const t = await connectTo(fake);
    const dry = await t.call('proxmox_guest_power', { vmid: 200, action: 'shutdown' });
    expect(dry.structured).toMatchObject({
      dryRun: true,
      summary: 'shutdown CT 200 (dns) on pve2, now running',
      preview: { request: 'POST /api2/json/nodes/pve2/lxc/200/status/shutdown' },
    });
    expect(fake.count('POST', /status/)).toBe(0);
    const progress: any[] = [];
    const r = await t.call(
      'proxmox_guest_power',
      { vmid: 200, action: 'shutdown', approval: dry.structured.approval },
      { onprogress: (p) => progress.push(p) },
    );
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.result).toMatchObject({
      vmid: 200,
      action: 'shutdown',
      status: 'OK',
      upid: expect.stringMatching(/^UPID:pve2:.*:vzshutdown:200:/),
    });
    expect(fake.guest(200)!.status).toBe('stopped');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.some((p) => /shutdown of guest 200: task running/.test(p.message))).toBe(true);
    await t.close();
  });

  it('stop is destructive and refused for a protected guest, before anything is sent', async () => {
    const t = await connectTo(fake);
    const r = await t.call('proxmox_guest_stop', { vmid: 101 });
    expect(r.errorCode).toBe('protected');
    expect(r.text).toMatch(/guest 101 \(db-01\) has protection=1: it is never stopped here/);
    expect(fake.count('POST', /status\/stop/)).toBe(0);
    await t.close();
  });

  it('a failed task is an error with its exit status and log, not a success', async () => {
    fake.failingTasks.set('qmstart', "can't lock file '/var/lock/qemu-server/lock-102.conf' - got timeout");
    const t = await connectTo(fake);
    const r = await approve(t, 'proxmox_guest_power', { vmid: 102, action: 'start' });
    expect(r.errorCode).toBe('task_failed');
    expect(r.text).toMatch(/start of guest 102 failed: can't lock file/);
    expect(r.raw._meta['infra-mcp/error'].details.log).toContain(
      "TASK ERROR: can't lock file '/var/lock/qemu-server/lock-102.conf' - got timeout",
    );
    expect(fake.guest(102)!.status).toBe('stopped');
    await t.close();
  });

  it('when the call time runs out it says the task still runs and to poll proxmox_tasks with the UPID', async () => {
    fake.taskMs = 5_000;
    const t = await connectTo(fake, {}, { timeoutMs: 800 });
    const r = await approve(t, 'proxmox_guest_stop', { vmid: 100 });
    expect(r.isError).toBe(false);
    const op = r.structured.operation;
    expect(op).toMatchObject({
      status: 'running',
      poll: {
        tool: 'proxmox_tasks',
        arguments: { upid: expect.stringMatching(/^UPID:pve1:.*:qmstop:100:/) },
      },
    });
    expect(r.text).toMatch(/proxmox_tasks/);
    const later = await t.call('proxmox_tasks', op.poll.arguments);
    expect(later.structured.task.status).toBe('running');
    await t.close();
  });

  it('an approval is refused when the guest changed since the dry run (stale plan), nothing sent', async () => {
    const t = await connectTo(fake);
    const dry = await t.call('proxmox_guest_stop', { vmid: 100 });
    fake.guest(100)!.status = 'paused'; // someone else paused it meanwhile
    const r = await t.call('proxmox_guest_stop', { vmid: 100, approval: dry.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect(fake.count('POST', /status\/stop$/)).toBe(0);
    await t.close();
  });

  it('a wrong state is refused with the state named', async () => {
    const t = await connectTo(fake);
    const r = await t.call('proxmox_guest_power', { vmid: 102, action: 'reboot' });
    expect(r.errorCode).toBe('wrong_state');
    expect(r.text).toMatch(/guest 102 is stopped: reboot applies to running guests/);
    await t.close();
  });
});

describe('a connection dropped during a POST', () => {
  it('says the outcome is unknown and how to find out; the POST is sent once, never retried', async () => {
    const t = await connectTo(fake);
    const dry = await t.call('proxmox_guest_stop', { vmid: 100 });
    fake.drop = { method: 'POST', path: /status\/stop$/ };
    const r = await t.call('proxmox_guest_stop', { vmid: 100, approval: dry.structured.approval });
    expect(r.errorCode).toBe('outcome_unknown');
    expect(r.text).toMatch(/may or may not have been carried out; it was not retried/);
    expect(r.text).toMatch(/proxmox_tasks/);
    expect(fake.count('POST', /status\/stop$/)).toBe(1);
    // the stop did start on the server: the recent tasks show it
    fake.drop = undefined;
    const tasks = await t.call('proxmox_tasks', { node: 'pve1', vmid: 100 });
    expect(tasks.structured.tasks.map((x: any) => x.type)).toEqual(['qmstop']);
    await t.close();
  });

  it('a snapshot POST dropped before it was read is not retried either', async () => {
    const t = await connectTo(fake);
    const dry = await t.call('proxmox_snapshot_create', { vmid: 100, name: 'pre' });
    fake.drop = { method: 'POST', path: /snapshot$/, before: true };
    const r = await t.call('proxmox_snapshot_create', {
      vmid: 100,
      name: 'pre',
      approval: dry.structured.approval,
    });
    expect(r.errorCode).toBe('outcome_unknown');
    expect(fake.count('POST', /snapshot$/)).toBe(1);
    expect(fake.tasks.size).toBe(0);
    await t.close();
  });

  it('a GET whose connection drops is retried once (reads are idempotent)', async () => {
    const t = await connectTo(fake);
    fake.drop = { method: 'GET', path: /^\/cluster\/status$/, before: true };
    const r = await t.call('proxmox_cluster');
    expect(r.errorCode).toBe('unreachable');
    expect(fake.count('GET', /^\/cluster\/status$/)).toBe(2);
    await t.close();
  });
});

describe('snapshots', () => {
  it('create, list, rollback (destructive), delete', async () => {
    const t = await connectTo(fake);
    expect(
      (
        await approve(t, 'proxmox_snapshot_create', {
          vmid: 200,
          name: 'pre_upgrade',
          description: 'before apt',
        })
      ).isError,
    ).toBe(false);
    const list = await t.call('proxmox_snapshots', { vmid: 200 });
    expect(list.structured.snapshots).toMatchObject([{ name: 'pre_upgrade', description: 'before apt' }]);
    const tools = await t.listTools();
    expect(tools.find((x) => x.name === 'proxmox_snapshot_rollback').annotations.destructiveHint).toBe(true);
    const dup = await t.call('proxmox_snapshot_create', { vmid: 200, name: 'pre_upgrade' });
    expect(dup.errorCode).toBe('exists');
    expect((await approve(t, 'proxmox_snapshot_rollback', { vmid: 200, name: 'pre_upgrade' })).isError).toBe(
      false,
    );
    expect((await approve(t, 'proxmox_snapshot_delete', { vmid: 200, name: 'pre_upgrade' })).isError).toBe(
      false,
    );
    expect(fake.guest(200)!.snapshots).toEqual([]);
    const gone = await t.call('proxmox_snapshot_delete', { vmid: 200, name: 'pre_upgrade' });
    expect(gone.errorCode).toBe('not_found');
    await t.close();
  });
});

describe('exec through the guest agent', () => {
  it('is off unless enabled: not offered at all', async () => {
    const t = await connectTo(fake);
    await expect(t.call('proxmox_exec', { vmid: 100, argv: ['uptime'] })).rejects.toThrow(
      /Unknown tool: proxmox_exec/,
    );
    expect(fake.count('POST', /agent/)).toBe(0);
    await t.close();
  });

  it('runs argv, polls exec-status until it exits, returns exit code and capped output', async () => {
    const t = await connectTo(fake, { exec: { enabled: true, maxOutputBytes: 1000 } });
    const ok = await approve(t, 'proxmox_exec', { vmid: 100, argv: ['echo', 'hello', 'world'] });
    expect(ok.structured.result).toMatchObject({ exitcode: 0, stdout: 'hello world\n', truncated: false });
    expect(fake.count('GET', /exec-status$/)).toBeGreaterThan(1);
    const fail = await approve(t, 'proxmox_exec', { vmid: 100, argv: ['false'] });
    expect(fail.structured.result).toMatchObject({ exitcode: 1, stderr: 'failed\n' });
    const big = await approve(t, 'proxmox_exec', { vmid: 100, argv: ['yes'] });
    expect(big.structured.result.truncated).toBe(true);
    expect(big.structured.result.stdout.length).toBe(1000);
    await t.close();
  });

  it('a command allow-list refuses other programs', async () => {
    const t = await connectTo(fake, { exec: { enabled: true, commands: ['systemctl', 'journalctl'] } });
    const r = await t.call('proxmox_exec', { vmid: 100, argv: ['rm', '-rf', '/'] });
    expect(r.errorCode).toBe('denied_by_policy');
    expect(r.text).toMatch(/"rm" is not an allowed command \(allowed: systemctl, journalctl\)/);
    expect(fake.count('POST', /agent/)).toBe(0);
    await t.close();
  });
});
