import type { StoredTask } from '@infra-mcp/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisTaskStore } from '../src/index.js';
import { type RedisServer, startRedis } from './redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

let n = 0;
function task(owner: string, status: StoredTask['task']['status'] = 'working', ttlMs = 60_000): StoredTask {
  const at = new Date(Date.now() + n++).toISOString();
  return {
    owner,
    expiresAt: Date.now() + ttlMs,
    task: {
      taskId: `t${n}-${owner}`,
      status,
      createdAt: at,
      lastUpdatedAt: at,
      ttl: ttlMs,
    } as StoredTask['task'],
  };
}

describe('RedisTaskStore (real redis-server)', () => {
  it('two replicas see the same tasks: create on A, get/update/list on B', async () => {
    const a = new RedisTaskStore({ url: redis.url, prefix: 'tt1:' });
    const b = new RedisTaskStore({ url: redis.url, prefix: 'tt1:' });
    const t = task('alice');
    expect(await a.create(t)).toBe(true);
    expect(await b.get(t.task.taskId)).toEqual(t);
    const done = await b.update(t.task.taskId, (e) => ({
      ...e,
      task: { ...e.task, status: 'completed' },
      result: { content: [{ type: 'text', text: 'ok' }] },
    }));
    expect(done?.task.status).toBe('completed');
    expect((await a.get(t.task.taskId))?.result).toEqual({ content: [{ type: 'text', text: 'ok' }] });
    expect(await a.update('nope', (e) => e)).toBeUndefined();
    expect(await a.get('nope')).toBeUndefined();
    await a.close();
    await b.close();
  });

  it('update is atomic across replicas (compare-and-set): 2 x 25 concurrent increments, none lost', async () => {
    const a = new RedisTaskStore({ url: redis.url, prefix: 'tt2:' });
    const b = new RedisTaskStore({ url: redis.url, prefix: 'tt2:' });
    const t = task('bob');
    await a.create({ ...t, task: { ...t.task, statusMessage: '0' } });
    const bump = (e: StoredTask) => ({
      ...e,
      task: { ...e.task, statusMessage: String(Number(e.task.statusMessage) + 1) },
    });
    await Promise.all(
      Array.from({ length: 25 }, () => [a.update(t.task.taskId, bump), b.update(t.task.taskId, bump)]).flat(),
    );
    expect((await a.get(t.task.taskId))?.task.statusMessage).toBe('50');
    await a.close();
    await b.close();
  });

  it("lists one owner's tasks oldest first, a page at a time; finished tasks expire", async () => {
    const s = new RedisTaskStore({ url: redis.url, prefix: 'tt3:' });
    const mine = Array.from({ length: 5 }, () => task('carol'));
    for (const t of mine) await s.create(t);
    await s.create(task('dave'));
    const p1 = await s.list('carol', undefined, 2);
    expect(p1.tasks.map((t) => t.task.taskId)).toEqual(mine.slice(0, 2).map((t) => t.task.taskId));
    const p2 = await s.list('carol', p1.nextCursor, 2);
    expect(p2.tasks.map((t) => t.task.taskId)).toEqual(mine.slice(2, 4).map((t) => t.task.taskId));
    const p3 = await s.list('carol', p2.nextCursor, 2);
    expect(p3.tasks.map((t) => t.task.taskId)).toEqual([mine[4]!.task.taskId]);
    expect(p3.nextCursor).toBeUndefined();
    const short = task('erin', 'completed', 1);
    await s.create(short);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await s.get(short.task.taskId)).toBeUndefined();
    expect((await s.list('erin', undefined, 10)).tasks).toEqual([]);
    await s.close();
  });
});
