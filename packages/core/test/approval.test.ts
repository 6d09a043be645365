import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { Approvals, type AuditSink } from '../src/index.js';
import { kv, type Store } from './fixture-plugin.js';

async function store(t: Awaited<ReturnType<typeof connect>>): Promise<Store> {
  return (await t.server.registry.runtimes[0]!.client('default')) as Store;
}

describe('two-phase writes', () => {
  it('a call without approval is a dry run: preview and token, nothing changed', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const r = await t.call('kv_set', { key: 'a', value: '2' });
    expect(r.isError).toBe(false);
    expect(r.structured).toMatchObject({
      dryRun: true,
      preview: { key: 'a', from: '1', to: '2' },
      approval: expect.any(String),
    });
    expect(r.text).toMatch(/^dry run: nothing was changed\na: 1 -> 2\nto apply exactly this change/);
    expect((await store(t)).values.get('a')).toBe('1');
    expect(t.audit.records[0]).toMatchObject({ outcome: 'dry_run', dryRun: true });
    await t.close();
  });

  it('executes only with the token, for the same change', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const dry = await t.call('kv_set', { key: 'a', value: '2' });
    const done = await t.call('kv_set', { key: 'a', value: '2', approval: dry.structured.approval });
    expect(done.structured).toEqual({ dryRun: false, result: { key: 'a', old: '1', value: '2' } });
    expect((await store(t)).values.get('a')).toBe('2');
    expect(t.audit.records.map((r) => [r.outcome, r.dryRun, r.phase])).toEqual([
      ['dry_run', true, undefined],
      ['intent', false, 'intent'],
      ['ok', false, 'outcome'],
    ]);
    await t.close();
  });

  it('refuses a token used with other arguments', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const dry = await t.call('kv_set', { key: 'a', value: '2' });
    const r = await t.call('kv_set', { key: 'a', value: '3', approval: dry.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect((await store(t)).values.get('a')).toBe('1');
    await t.close();
  });

  it('refuses a stale plan: the backend changed between preview and approval', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const dry = await t.call('kv_set', { key: 'a', value: '2' });
    (await store(t)).values.set('a', 'changed-by-someone-else');
    const r = await t.call('kv_set', { key: 'a', value: '2', approval: dry.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect(r.text).toMatch(/no longer the one that was previewed.*nothing was executed/);
    expect((await store(t)).values.get('a')).toBe('changed-by-someone-else');
    await t.close();
  });

  it('refuses tampered, foreign and expired tokens', async () => {
    let clock = Date.now();
    const t = await connect([kv({ url: 'http://kv.local' })], {
      approvals: { ttlSeconds: 60, now: () => clock },
    });
    const dry = await t.call('kv_set', { key: 'a', value: '2' });
    const token: string = dry.structured.approval;
    const tampered = `${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}A`;
    expect((await t.call('kv_set', { key: 'a', value: '2', approval: tampered })).errorCode).toBe(
      'approval_invalid',
    );
    const foreign = new Approvals().issue('kv_set', 'default', 'x').token;
    expect((await t.call('kv_set', { key: 'a', value: '2', approval: foreign })).errorCode).toBe(
      'approval_invalid',
    );
    const del = await t.call('kv_delete', { key: 'a', approval: token });
    expect(del.errorCode).toBe('approval_invalid');
    expect(del.text).toMatch(/issued for kv_set/);
    clock += 61_000;
    expect((await t.call('kv_set', { key: 'a', value: '2', approval: token })).errorCode).toBe(
      'approval_expired',
    );
    expect((await store(t)).values.get('a')).toBe('1');
    await t.close();
  });

  it('fails closed when the audit sink cannot record: the change is not executed', async () => {
    let broken = false;
    const sink: AuditSink = {
      name: 'flaky',
      append: async () => {
        if (broken) throw new Error('disk full');
      },
      check: async () => {
        if (broken) throw new Error('disk full');
      },
    };
    const t = await connect([kv({ url: 'http://kv.local' })], { audit: [sink] });
    const dry = await t.call('kv_set', { key: 'a', value: '2' });
    broken = true;
    const r = await t.call('kv_set', { key: 'a', value: '2', approval: dry.structured.approval });
    expect(r.errorCode).toBe('audit_failed');
    expect(r.text).toMatch(/disk full.*not executed/);
    expect((await store(t)).values.get('a')).toBe('1');
    await t.close();
  });

  it('asks the human through elicitation when configured and supported', async () => {
    const { ElicitRequestSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const t = await connect([kv({ url: 'http://kv.local' })], {
      approvals: { mode: 'elicit' },
      capabilities: { elicitation: {} },
    });
    const asked: string[] = [];
    let answer = false;
    t.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return { action: 'accept', content: { approve: answer } };
    });
    const declined = await t.call('kv_set', { key: 'a', value: '2' });
    expect(declined.text).toMatch(/not approved by the user; nothing was changed/);
    expect((await store(t)).values.get('a')).toBe('1');
    answer = true;
    const approved = await t.call('kv_set', { key: 'a', value: '2' });
    expect(approved.structured).toMatchObject({ dryRun: false, result: { value: '2' } });
    expect(asked[0]).toMatch(/kv_set on kv\/default:\na: 1 -> 2/);
    await t.close();
  });

  it('a token executes once, and its value never reaches the audit log', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const dry = await t.call('kv_set', { key: 'a', value: '2' });
    const token: string = dry.structured.approval;
    expect((await t.call('kv_set', { key: 'a', value: '2', approval: token })).isError).toBe(false);
    (await store(t)).values.set('a', '1'); // same change would apply again
    const replay = await t.call('kv_set', { key: 'a', value: '2', approval: token });
    expect(replay.errorCode).toBe('approval_invalid');
    expect(replay.text).toMatch(/already used/);
    expect((await store(t)).values.get('a')).toBe('1');
    expect(JSON.stringify(t.audit.records)).not.toContain(token);
    expect(t.audit.records[1]!.args).toMatchObject({
      approval: expect.stringMatching(/^sha256:[0-9a-f]{16}$/),
    });
    await t.close();
  });

  it('a token is bound to its caller: another caller cannot execute it', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const dry = await t.server.callTool('kv_set', { key: 'a', value: '2' }, { caller: 'alice' });
    const token = (dry.structuredContent as any).approval;
    const bob = await t.server.callTool(
      'kv_set',
      { key: 'a', value: '2', approval: token },
      { caller: 'bob' },
    );
    expect(bob.isError).toBe(true);
    expect((bob.content[0] as any).text).toMatch(/issued to another caller/);
    const alice = await t.server.callTool(
      'kv_set',
      { key: 'a', value: '2', approval: token },
      { caller: 'alice' },
    );
    expect(alice.isError).toBeFalsy();
    await t.close();
  });

  it('naming the default instance or omitting it is the same change', async () => {
    const t = await connect([
      kv({ instances: { prod: { url: 'http://prod.local' }, dev: { url: 'http://dev.local' } } }),
    ]);
    const dry = await t.call('kv_set', { key: 'a', value: '2' });
    const done = await t.call('kv_set', {
      key: 'a',
      value: '2',
      instance: 'prod',
      approval: dry.structured.approval,
    });
    expect(done.structured).toMatchObject({ dryRun: false });
    await t.close();
  });

  it('waits for an approved change past the timeout and reports what happened', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })], { timeoutMs: 50 });
    const dry = await t.call('kv_set', { key: 'slow', value: '2' });
    const done = await t.call('kv_set', { key: 'slow', value: '2', approval: dry.structured.approval });
    expect(done.isError).toBe(false);
    expect(done.structured.result).toMatchObject({ value: '2' });
    expect(t.audit.records.at(-1)).toMatchObject({ outcome: 'ok', dryRun: false });
    await t.close();
  });
});
