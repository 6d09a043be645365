import { randomBytes } from 'node:crypto';
import { createServer, type InfraMcpServer } from '@infra-mcp/core';
import { connect, quietLogger, type TestClient } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, newBackend, ops } from '../../core/test/ops-plugin.js';
import { RedisApprovalStore, redactUrl } from '../src/index.js';
import { type RedisServer, startRedis } from './redis-server.js';

// Two replicas of one server: same approval secret, same Redis, one backend behind them.
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const secret = randomBytes(24).toString('base64url');

async function replica(backend: Backend, prefix: string, url = redis.url): Promise<TestClient> {
  const store = await RedisApprovalStore.connect({ url, prefix });
  const server: InfraMcpServer = createServer({
    env: {},
    logger: quietLogger,
    plugins: [ops({ backend })],
    approvals: { secret, store },
    audit: [],
  });
  return connect(server);
}

const args = {
  objects: [
    { name: 'cm-1', spec: 'b' },
    { name: 'cm-2', spec: 'c' },
  ],
};

describe('RedisApprovalStore (real redis-server)', () => {
  it('has a stable scope from its prefix, and SET NX PXAT single use', async () => {
    const a = await RedisApprovalStore.connect({ url: redis.url, prefix: 'unit:' });
    const b = await RedisApprovalStore.connect({ url: redis.url, prefix: 'unit:' });
    expect(a.scope).toBe('redis:unit:');
    expect(b.scope).toBe(a.scope);
    const exp = Date.now() + 60_000;
    expect(await a.used('t1')).toBe(false);
    const both = await Promise.all([a.consume('t1', exp), b.consume('t1', exp)]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(await b.used('t1')).toBe(true);
    expect(await a.consume('t1', exp)).toBe(false);
    // an expiry already past is still a valid PXAT (kept a while), not a Redis error
    expect(await a.consume('t2', Date.now() - 1000)).toBe(true);
    await a.close();
    await b.close();
  });

  it('a token issued by replica A executes on replica B, which plans again and compares', async () => {
    const backend = newBackend();
    const A = await replica(backend, 'p1:');
    const B = await replica(backend, 'p1:');
    const dry = await A.call('ops_apply', args);
    expect(dry.structured.dryRun).toBe(true);
    const plans = backend.plans;
    const done = await B.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(done.isError, done.text).toBe(false);
    expect(done.structured.result.applied).toEqual(['cm-1', 'cm-2']);
    expect(backend.plans).toBe(plans + 1); // B had no held handle: it planned again
    // and the token is spent for A too
    const again = await A.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(again.errorCode).toBe('approval_invalid');
    expect(again.text).toMatch(/already used/);
    expect(backend.applies).toHaveLength(1);
    await A.close();
    await B.close();
  });

  it('B refuses a token when the backend moved since A planned (stale plan), nothing executed', async () => {
    const backend = newBackend();
    const A = await replica(backend, 'p2:');
    const B = await replica(backend, 'p2:');
    const dry = await A.call('ops_apply', args);
    backend.objects.set('cm-1', { spec: 'someone-else', version: 7 });
    const r = await B.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect(backend.applies).toEqual([]);
    await A.close();
    await B.close();
  });

  it('one token sent to A and B at the same instant executes exactly once (20 rounds)', async () => {
    const backend = newBackend();
    const A = await replica(backend, 'p3:');
    const B = await replica(backend, 'p3:');
    for (let round = 0; round < 20; round++) {
      const a = { objects: [{ name: `obj-${round}`, spec: 'x' }] };
      const dry = await (round % 2 ? B : A).call('ops_apply', a);
      const token = dry.structured.approval;
      const results = await Promise.all([
        A.call('ops_apply', { ...a, approval: token }),
        B.call('ops_apply', { ...a, approval: token }),
      ]);
      const ok = results.filter((r) => !r.isError);
      expect(ok, `round ${round}`).toHaveLength(1);
      // the loser is refused: the token is spent ("already used"), or, when it planned again after
      // the winner's change landed, the change it would make is no longer the approved one
      const refused = results.find((r) => r.isError)!;
      expect(['approval_invalid', 'stale_plan']).toContain(refused.errorCode);
    }
    expect(backend.applies).toHaveLength(20);
    await A.close();
    await B.close();
  });

  it('after a restart: an unspent token still executes, a replayed one is refused', async () => {
    const backend = newBackend();
    let A = await replica(backend, 'p4:');
    const dry1 = await A.call('ops_apply', args);
    const dry2 = await A.call('ops_apply', { objects: [{ name: 'other', spec: 'y' }] });
    const first = await A.call('ops_apply', { ...args, approval: dry1.structured.approval });
    expect(first.isError, first.text).toBe(false);
    await A.close();
    A = await replica(backend, 'p4:'); // the process restarted: no memory, no held plans
    const replay = await A.call('ops_apply', { ...args, approval: dry1.structured.approval });
    expect(replay.errorCode).toBe('approval_invalid');
    expect(replay.text).toMatch(/already used/);
    const unspent = await A.call('ops_apply', {
      objects: [{ name: 'other', spec: 'y' }],
      approval: dry2.structured.approval,
    });
    expect(unspent.isError, unspent.text).toBe(false);
    expect(backend.applies).toHaveLength(2);
    await A.close();
  });

  it('a replica with another prefix (another deployment) refuses the token', async () => {
    const backend = newBackend();
    const A = await replica(backend, 'p5:');
    const C = await replica(backend, 'other:');
    const dry = await A.call('ops_apply', args);
    const r = await C.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(r.errorCode).toBe('approval_invalid');
    expect(backend.applies).toEqual([]);
    await A.close();
    await C.close();
  });

  it('fails closed when Redis is gone: the change does not run', async () => {
    const own = await startRedis();
    const backend = newBackend();
    const errors: Error[] = [];
    const store = await RedisApprovalStore.connect({
      url: own.url,
      prefix: 'p6:',
      onError: (e) => errors.push(e),
    });
    const t = await connect(
      createServer({
        env: {},
        logger: quietLogger,
        plugins: [ops({ backend })],
        approvals: { secret, store },
        audit: [],
      }),
    );
    const dry = await t.call('ops_apply', args);
    await own.stop();
    const r = await t.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(r.isError).toBe(true);
    expect(backend.applies).toEqual([]);
    await t.close();
  });

  it('connects at first use, fails fast while Redis is unreachable, and retries at the next use', async () => {
    const { freePort } = await import('./redis-server.js');
    const port = await freePort();
    const store = new RedisApprovalStore({
      url: `redis://:pw@127.0.0.1:${port}`,
      prefix: 'lazy:',
      commandTimeoutMs: 500,
      onError: () => {},
    });
    const t0 = Date.now();
    const err = await store.consume('x', Date.now() + 60_000).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /cannot reach the approval store at redis:\/\/:\*\*\*@127\.0\.0\.1/,
    );
    expect(Date.now() - t0).toBeLessThan(3000);
    const later = await startRedis(port);
    expect(await store.consume('x', Date.now() + 60_000)).toBe(true);
    await store.close();
    await later.stop();
  });

  it('connect names the URL without its password when Redis cannot be reached', async () => {
    expect(redactUrl('redis://user:hunter2@h:1/0')).toBe('redis://user:***@h:1/0');
  });
});
