import { connect } from '@infra-mcp/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditSink } from '../src/index.js';
import { type Backend, newBackend, onDiscard, ops } from './ops-plugin.js';

const objects = (n: number, spec = 'v1') =>
  Array.from({ length: n }, (_, i) => ({ name: `obj-${String(i + 1).padStart(2, '0')}`, spec }));

afterEach(() => onDiscard(undefined));

describe('write lifecycle: a multi-object apply (k8s apply)', () => {
  it('executes exactly the reviewed plan from its handle after verify, without planning again', async () => {
    const backend = newBackend();
    const t = await connect([ops({ backend })]);
    const args = { objects: [...objects(2), { name: 'cm-1', spec: 'b' }] };
    const dry = await t.call('ops_apply', args);
    expect(dry.structured).toMatchObject({
      dryRun: true,
      summary: 'apply 3 objects: 2 created, 1 updated or unchanged',
    });
    expect(dry.text).toMatch(/^dry run: nothing was changed\napply 3 objects/);
    const plansAfterDryRun = backend.plans;
    const done = await t.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(done.isError).toBe(false);
    expect(done.structured.result.applied).toEqual(['obj-01', 'obj-02', 'cm-1']);
    expect(backend.plans).toBe(plansAfterDryRun); // no second plan run
    expect(backend.verifies).toBe(1);
    await t.close();
  });

  it('refuses when verify finds the world moved, and keeps nothing half-applied', async () => {
    const backend = newBackend();
    const t = await connect([ops({ backend })]);
    const args = { objects: [{ name: 'cm-1', spec: 'b' }] };
    const dry = await t.call('ops_apply', args);
    backend.objects.set('cm-1', { spec: 'someone-else', version: 2 });
    const r = await t.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect(r.text).toMatch(/cm-1 changed since the dry run/);
    expect(backend.objects.get('cm-1')?.spec).toBe('someone-else');
    expect(backend.applies).toEqual([]);
    await t.close();
  });

  it('a failure on object 3 of 5 is reported and audited with what was and was not applied', async () => {
    const backend = newBackend();
    backend.failing.add('obj-03');
    const t = await connect([ops({ backend })]);
    const args = { objects: objects(5) };
    const dry = await t.call('ops_apply', args);
    const r = await t.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(r.errorCode).toBe('apply_failed');
    expect(r.text).toMatch(/object 3 of 5 \(obj-03\)/);
    expect(r.text).toMatch(/applied:\n\s+- obj-01\n\s+- obj-02/);
    const details = { applied: ['obj-01', 'obj-02'], failed: 'obj-03', notAttempted: ['obj-04', 'obj-05'] };
    expect(r.raw._meta['infra-mcp/error'].details).toEqual(details);
    const [dryRec, intent, outcome] = t.audit.records;
    expect(dryRec).toMatchObject({ outcome: 'dry_run', changeHash: expect.any(String) });
    expect(intent).toMatchObject({
      phase: 'intent',
      changeHash: dryRec!.changeHash,
      summary: /apply 5 objects/,
    });
    expect(outcome).toMatchObject({ phase: 'outcome', outcome: 'error', errorCode: 'apply_failed', details });
    expect(outcome!.intent).toBe(intent!.id); // the outcome names its intent: audit verify pairs them
    await t.close();
  });

  it('fits a 60-object preview into the budget, still with its token, and pages the rest with a cursor', async () => {
    const backend = newBackend();
    const t = await connect([ops({ backend })], { maxBytes: 4096 });
    const args = { objects: objects(60, 'x'.repeat(40)) };
    const dry = await t.call('ops_apply', args);
    expect(dry.isError).toBe(false);
    const token = dry.structured.approval;
    expect(token).toEqual(expect.any(String));
    const page1 = dry.structured.previewPage;
    expect(page1.total).toBe(60);
    expect(page1.items.length).toBeGreaterThan(3);
    expect(page1.more).toBe(60 - page1.items.length);
    expect(Buffer.byteLength(JSON.stringify(dry.structured))).toBeLessThanOrEqual(4096);
    expect(dry.text).toMatch(
      new RegExp(`${page1.more} more: call ops_apply again with the same arguments and cursor`),
    );
    // page through the rest: same token, every object seen once
    const seen = page1.items.map((i: { name: string }) => i.name);
    let cursor = page1.cursor;
    while (cursor) {
      const next = await t.call('ops_apply', { ...args, cursor });
      expect(next.structured.approval).toBe(token);
      seen.push(...next.structured.previewPage.items.map((i: { name: string }) => i.name));
      cursor = next.structured.previewPage.cursor;
    }
    expect(seen).toEqual(args.objects.map((o) => o.name));
    // a larger maxBytes shows the whole preview, and the token still executes the change
    const whole = await t.call('ops_apply', { ...args, maxBytes: 65536, cursor: undefined });
    expect(whole.structured.preview.objects).toHaveLength(60);
    const done = await t.call('ops_apply', { ...args, maxBytes: 1024, approval: token });
    expect(done.isError).toBe(false);
    expect(backend.applies[0]).toHaveLength(60);
    await t.close();
  });
});

describe('write lifecycle: plan handles (terraform apply of a reviewed plan file)', () => {
  // as a real server runs: one plan per dry run (the harness's determinism check plans twice)
  const once = { checkPlans: false };
  it('discards the plan file when its approval is used', async () => {
    const discarded: string[] = [];
    onDiscard((f) => discarded.push(f));
    const backend = newBackend();
    const t = await connect([ops({ backend })], once);
    const dry = await t.call('ops_terraform_apply', { dir: 'envs/dev' });
    expect(discarded).toEqual([]);
    const done = await t.call('ops_terraform_apply', { dir: 'envs/dev', approval: dry.structured.approval });
    expect(done.structured.result).toEqual({ applied: 'envs/dev/plan-1.tfplan' });
    expect(discarded).toEqual(['envs/dev/plan-1.tfplan']);
    await t.close();
  });

  it('discards the plan file when its approval expires', async () => {
    const discarded: string[] = [];
    onDiscard((f) => discarded.push(f));
    const t = await connect([ops({ backend: newBackend() })], { ...once, approvals: { ttlSeconds: 0.05 } });
    await t.call('ops_terraform_apply', { dir: 'envs/prod' });
    await new Promise((r) => setTimeout(r, 120)); // the expiry timer runs on real time
    expect(discarded).toEqual(['envs/prod/plan-1.tfplan']);
    await t.close();
  });

  it('discards held plans at shutdown', async () => {
    const discarded: string[] = [];
    onDiscard((f) => discarded.push(f));
    const t = await connect([ops({ backend: newBackend() })], once);
    await t.call('ops_terraform_apply', { dir: 'a' });
    await t.call('ops_terraform_apply', { dir: 'b' });
    await t.close();
    expect(discarded.sort()).toEqual(['a/plan-1.tfplan', 'b/plan-2.tfplan']);
  });
});

describe('long operations (Proxmox vm_stop)', () => {
  it('waits with progress notifications until the operation is done', async () => {
    const backend = newBackend();
    const t = await connect([ops({ backend })]);
    const dry = await t.call('ops_stop', { vmid: 100 });
    const progress: unknown[] = [];
    const r = await t.call(
      'ops_stop',
      { vmid: 100, approval: dry.structured.approval },
      { onprogress: (p) => progress.push(p) },
    );
    expect(r.structured.result).toEqual({ state: 'stopped' });
    expect(progress.length).toBe(2);
    expect(progress[0]).toMatchObject({ message: 'waiting for guest 100 to shut down' });
    await t.close();
  });

  it('says "still running, poll with X" when the call time runs out, instead of failing or abandoning it', async () => {
    const backend = newBackend();
    backend.guest.stopAfterChecks = 1_000_000;
    const t = await connect([ops({ backend })], { timeoutMs: 300 });
    const dry = await t.call('ops_stop', { vmid: 100 });
    const r = await t.call('ops_stop', { vmid: 100, approval: dry.structured.approval });
    expect(r.isError).toBe(false);
    expect(r.structured).toMatchObject({
      dryRun: false,
      operation: {
        id: 'UPID:node1:stop:100',
        status: 'running',
        poll: { tool: 'ops_task', arguments: { vmid: 100 } },
        message: 'waiting for guest 100 to shut down',
      },
    });
    expect(r.text).toMatch(/^still running after [\d.]+ s .*poll with ops_task \{"vmid":100\}/);
    expect(t.audit.records.at(-1)).toMatchObject({ outcome: 'running', phase: 'outcome' });
    await t.close();
  });
});

describe('reads at the deadline (k8s logs of a busy pod)', () => {
  it('returns a partial answer, flagged, instead of a timeout error', async () => {
    const t = await connect([ops({ backend: newBackend() })], { timeoutMs: 500 });
    const r = await t.call('ops_logs', {});
    expect(r.isError).toBe(false);
    expect(r.structured.partial).toBe(true);
    expect(r.text).toMatch(/partial: the deadline passed after \d+ lines; the newest are shown/);
    expect(r.raw._meta['infra-mcp/partial'].reason).toMatch(/deadline passed/);
    await t.close();
  });
});

describe('approval tokens', () => {
  it('presentation arguments (maxBytes) are not part of the change', async () => {
    const backend = newBackend();
    const t = await connect([ops({ backend })]);
    const dry = await t.call('ops_apply', { objects: objects(1), maxBytes: 2048 });
    const r = await t.call('ops_apply', {
      objects: objects(1),
      maxBytes: 8192,
      approval: dry.structured.approval,
    });
    expect(r.isError).toBe(false);
    await t.close();
  });

  it('a refused execution (audit down) does not spend the token', async () => {
    let broken = false;
    const sink: AuditSink = {
      name: 'flaky',
      append: async () => {
        if (broken) throw new Error('disk full');
      },
    };
    const backend = newBackend();
    const t = await connect([ops({ backend })], { audit: [sink] });
    const dry = await t.call('ops_apply', { objects: objects(1) });
    broken = true;
    const refused = await t.call('ops_apply', { objects: objects(1), approval: dry.structured.approval });
    expect(refused.errorCode).toBe('audit_failed');
    expect(refused.text).toMatch(/approval is still valid/);
    expect(backend.applies).toEqual([]);
    broken = false;
    const done = await t.call('ops_apply', { objects: objects(1), approval: dry.structured.approval });
    expect(done.isError).toBe(false);
    const again = await t.call('ops_apply', { objects: objects(1), approval: dry.structured.approval });
    expect(again.errorCode).toBe('approval_invalid');
    expect(again.text).toMatch(/already used/);
    await t.close();
  });

  it('a spent token does not run again after a restart with the same secret', async () => {
    const backend = newBackend();
    const first = await connect([ops({ backend })], {
      approvals: { secret: 's3cret-shared-between-restarts' },
    });
    const dry = await first.call('ops_apply', { objects: objects(1) });
    const token = dry.structured.approval;
    expect((await first.call('ops_apply', { objects: objects(1), approval: token })).isError).toBe(false);
    await first.close();
    const second = await connect([ops({ backend })], {
      approvals: { secret: 's3cret-shared-between-restarts' },
    });
    const replay = await second.call('ops_apply', { objects: objects(1), approval: token });
    expect(replay.errorCode).toBe('approval_invalid');
    expect(replay.text).toMatch(/before this server restarted/);
    expect(backend.applies).toHaveLength(1);
    await second.close();
  });

  it('a plan that is not deterministic is reported as a plugin bug, naming the plugin', async () => {
    const t = await connect([ops({ backend: newBackend() })]);
    const r = await t.call('ops_flaky_plan', {});
    expect(r.errorCode).toBe('plan_not_deterministic');
    expect(r.text).toMatch(
      /ops_flaky_plan \(plugin ops\): two plans of the same arguments gave different changes/,
    );
    await t.close();
  });
});

describe('limits', () => {
  it('answers busy past the concurrent-call limit, and serves again once calls finish', async () => {
    const backend: Backend = newBackend();
    const t = await connect([ops({ backend })], { limits: { concurrent: 1 }, timeoutMs: 400 });
    const slow = t.call('ops_logs', { slowAfter: 0 });
    await new Promise((r) => setTimeout(r, 50));
    const busy = await t.call('ops_logs', {});
    expect(busy.errorCode).toBe('busy');
    expect(busy.text).toMatch(/retry in a few seconds/);
    await slow;
    expect((await t.call('ops_logs', { slowAfter: 10_000 })).isError).toBe(false);
    await t.close();
  });
});
