import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../../packages/redis/test/redis-server.js';
import { KV_PLUGIN, run } from './cli-helpers.js';
import {
  cleanEnv,
  cliPath,
  type RunningApp,
  requireBuilt,
  startHttpApp,
  tempDir,
} from './helpers/app-process.js';

// Two `infra-mcp --http` processes (replicas) sharing INFRA_MCP_APPROVAL_SECRET and a real redis-server.
const TOKEN = 'replica-token-0123456789abcdef';
const headers = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  authorization: `Bearer ${TOKEN}`,
  'mcp-protocol-version': '2025-06-18',
};

let redis: RedisServer;
let dir: string;
const started: RunningApp[] = [];
beforeAll(async () => {
  requireBuilt(cliPath);
  redis = await startRedis();
  dir = tempDir('replicas');
});
afterAll(async () => {
  for (const s of started) await s.stop();
  await redis?.stop();
});

const secret = randomBytes(24).toString('base64url');
async function replica(name: string): Promise<RunningApp> {
  const app = await startHttpApp(['--plugin-module', KV_PLUGIN], {
    cwd: dir,
    env: cleanEnv(dir, {
      INFRA_MCP_TOKENS: `alice:${TOKEN}`,
      INFRA_MCP_APPROVAL_SECRET: secret,
      INFRA_MCP_APPROVAL_REDIS_URL: redis.url,
      INFRA_MCP_AUDIT_FILE: `${dir}/audit-${name}.jsonl`,
      INFRA_MCP_AUDIT_KEY: 'k'.repeat(32),
      KV_URL: 'http://kv.invalid',
    }),
  });
  started.push(app);
  return app;
}

let ids = 0;
async function call(app: RunningApp, name: string, args: Record<string, unknown>): Promise<any> {
  const res = await fetch(app.url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: ++ids,
      method: 'tools/call',
      params: { name, arguments: args },
    }),
  });
  const text = await res.text();
  const msgs = res.headers.get('content-type')?.includes('text/event-stream')
    ? text
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => JSON.parse(l.slice(6)))
    : [JSON.parse(text)];
  return msgs.at(-1).result;
}

describe('replicas sharing a Redis approval store (infra-mcp --http processes)', () => {
  it('A issues, B executes; a token sent to both at once runs once; a replay after restart is refused', async () => {
    const A = await replica('a');
    let B = await replica('b');
    const dry = await call(A, 'kv_set', { key: 'x', value: '1' });
    expect(dry.structuredContent.dryRun).toBe(true);
    const onB = await call(B, 'kv_set', { key: 'x', value: '1', approval: dry.structuredContent.approval });
    expect(onB.isError ?? false).toBe(false);
    expect(onB.structuredContent.result).toEqual({ key: 'x', value: '1' });

    for (let round = 0; round < 10; round++) {
      const args = { key: `k${round}`, value: 'v' };
      const d = await call(round % 2 ? B : A, 'kv_set', args);
      const approval = d.structuredContent.approval;
      const both = await Promise.all([
        call(A, 'kv_set', { ...args, approval }),
        call(B, 'kv_set', { ...args, approval }),
      ]);
      expect(
        both.filter((r) => !r.isError),
        `round ${round}`,
      ).toHaveLength(1);
      // refused as spent, or as stale when the loser planned again after the winner's change landed
      expect(['approval_invalid', 'stale_plan']).toContain(
        both.find((r) => r.isError)._meta['infra-mcp/error'].code,
      );
    }

    // B restarts: the token it executed stays spent
    await B.stop();
    B = await replica('b2');
    const replay = await call(B, 'kv_set', {
      key: 'x',
      value: '1',
      approval: dry.structuredContent.approval,
    });
    expect(replay.isError).toBe(true);
    expect(replay._meta['infra-mcp/error'].code).toBe('approval_invalid');
    expect(replay.content[0].text).toMatch(/already used/);
  });
});

describe('shared MCP tasks (tasks.store.redis)', () => {
  it('a task started on replica A is answered by replica B (tasks/get, tasks/result)', async () => {
    const env = (name: string) =>
      cleanEnv(dir, {
        INFRA_MCP_TOKENS: `alice:${TOKEN}`,
        INFRA_MCP_APPROVAL_SECRET: secret,
        INFRA_MCP_APPROVAL_REDIS_URL: redis.url,
        INFRA_MCP_TASKS_REDIS_URL: redis.url,
        INFRA_MCP_AUDIT_FILE: `${dir}/audit-t${name}.jsonl`,
        INFRA_MCP_AUDIT_KEY: 'k'.repeat(32),
        KV_URL: 'http://kv.invalid',
      });
    const A = await startHttpApp(['--plugin-module', KV_PLUGIN], { cwd: dir, env: env('a') });
    started.push(A);
    const B = await startHttpApp(['--plugin-module', KV_PLUGIN], { cwd: dir, env: env('b') });
    started.push(B);
    const rpc = async (app: RunningApp, method: string, params: unknown) => {
      const res = await fetch(app.url, {
        method: 'POST',
        headers: { ...headers, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++ids, method, params }),
      });
      const text = await res.text();
      const line = text.startsWith('{')
        ? text
        : text
            .split('\n')
            .findLast((l) => l.startsWith('data: '))!
            .slice(6);
      return JSON.parse(line);
    };
    const dry = await call(A, 'kv_set', { key: 'task', value: '1' });
    const created = await rpc(A, 'tools/call', {
      name: 'kv_set',
      arguments: { key: 'task', value: '1', approval: dry.structuredContent.approval },
      task: { ttl: 60_000 },
    });
    const taskId = created.result?.task?.taskId;
    expect(taskId, JSON.stringify(created)).toEqual(expect.any(String));
    const result = await rpc(B, 'tasks/result', { taskId });
    expect(result.result?.structuredContent?.result, JSON.stringify(result)).toEqual({
      key: 'task',
      value: '1',
    });
    const got = await rpc(B, 'tasks/get', { taskId });
    expect(got.result.status).toBe('completed');
  });
});

describe('the Redis URL is a secret', () => {
  it('infra-mcp config redacts it; an unreachable store fails the approved call without naming the password', async () => {
    const pw = 'rEd1sPassw0rdQ7xZ';
    const unreachable = `redis://:${pw}@127.0.0.1:1`;
    const shown = await run(['config'], {
      env: { HOME: dir, INFRA_MCP_APPROVAL_REDIS_URL: unreachable },
      cwd: dir,
    });
    expect(shown.stdout).toMatch(/url: "\[REDACTED\]"/);
    expect(shown.stdout + shown.stderr).not.toContain(pw);

    const app = await startHttpApp(['--plugin-module', KV_PLUGIN], {
      cwd: dir,
      env: cleanEnv(dir, {
        INFRA_MCP_TOKENS: `alice:${TOKEN}`,
        INFRA_MCP_APPROVAL_SECRET: secret,
        INFRA_MCP_APPROVAL_REDIS_URL: unreachable,
        INFRA_MCP_AUDIT_FILE: `${dir}/audit-down.jsonl`,
        INFRA_MCP_AUDIT_KEY: 'k'.repeat(32),
        KV_URL: 'http://kv.invalid',
      }),
    });
    started.push(app);
    const dry = await call(app, 'kv_set', { key: 'y', value: '1' });
    expect(dry.structuredContent.dryRun).toBe(true); // dry runs do not need the store
    const r = await call(app, 'kv_set', { key: 'y', value: '1', approval: dry.structuredContent.approval });
    expect(r.isError).toBe(true);
    expect(JSON.stringify(r) + app.stderr()).not.toContain(pw);
    const after = await call(app, 'kv_get', { key: 'y' });
    expect(after.structuredContent.value).toBeNull(); // nothing ran
  });
});
