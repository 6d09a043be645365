import { randomBytes } from 'node:crypto';
import { createServer, type InfraMcpServer } from '@infra-mcp/core';
import { type RunningHttp, serveHttp } from '@infra-mcp/core/http';
import { quietLogger } from '@infra-mcp/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, newBackend, ops } from '../../core/test/ops-plugin.js';
import { RedisApprovalStore, RedisTaskStore } from '../src/index.js';
import { freePort, type RedisServer, startRedis } from './redis-server.js';

// Replicas of the HTTP server sharing a real redis-server: /readyz follows Redis, and a task
// cancelled through one replica stops on the replica running it.
const TOKEN = 'alice-token-0123456789abcdef';
const secret = randomBytes(24).toString('base64url');
let redisPort: number;
let redis: RedisServer | undefined;
const running: { app: InfraMcpServer; http: RunningHttp }[] = [];

beforeAll(async () => {
  redisPort = await freePort();
  redis = await startRedis(redisPort);
});
afterEach(async () => {
  for (const { app, http } of running.splice(0)) {
    await http.close();
    await app.close();
  }
});
afterAll(async () => {
  await redis?.stop();
});

async function replica(
  backend: Backend,
  prefix: string,
): Promise<{ app: InfraMcpServer; http: RunningHttp }> {
  const url = `redis://127.0.0.1:${redisPort}`;
  const app = createServer({
    env: {},
    logger: quietLogger,
    plugins: [ops({ backend })],
    approvals: { secret, store: new RedisApprovalStore({ url, prefix, onError: () => {} }) },
    tasks: { store: new RedisTaskStore({ url, prefix, onError: () => {} }), pollIntervalMs: 100 },
    audit: [],
  });
  const http = await serveHttp(app, { port: 0, tokens: { alice: TOKEN } });
  running.push({ app, http });
  return { app, http };
}

let ids = 0;
/** One JSON-RPC request to a replica's /mcp (stateless Streamable HTTP), as any MCP client sends it. */
async function rpc(http: RunningHttp, method: string, params: Record<string, unknown>): Promise<any> {
  const res = await fetch(http.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${TOKEN}`,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++ids, method, params }),
  });
  const text = await res.text();
  const data = text.startsWith('{')
    ? text
    : text
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .at(-1)
        ?.slice(6);
  const msg = JSON.parse(data ?? '{}');
  if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
  return msg.result;
}

/** Polls `check` until it returns a value (or fails naming `what` after 30 s). */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('replicas over HTTP with a real redis-server', () => {
  it('/readyz is 503 naming Redis while the approval and task store cannot reach it, 200 again when it is back', async () => {
    const { http } = await replica(newBackend(), 'ready:');
    const readyz = async () => {
      const res = await fetch(new URL('/readyz', http.url), {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return { status: res.status, body: (await res.json()) as { ready: boolean; checks: any[] } };
    };
    const first = await readyz();
    expect(first.status).toBe(200);
    expect(first.body.checks).toEqual(
      expect.arrayContaining([
        {
          plugin: 'approvals',
          instance: 'store',
          ok: true,
          message: expect.stringMatching(/reached Redis redis:\/\/127\.0\.0\.1/),
        },
        { plugin: 'tasks', instance: 'store', ok: true, message: expect.stringMatching(/reached Redis/) },
      ]),
    );

    await redis!.stop();
    redis = undefined;
    const down = await until('/readyz answers 503', async () => {
      const r = await readyz();
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.ready).toBe(false);
    const approvals = down.body.checks.find((c) => c.plugin === 'approvals');
    expect(approvals.ok).toBe(false);
    expect(approvals.message).toMatch(
      new RegExp(
        `cannot reach Redis redis://127\\.0\\.0\\.1:${redisPort}/? \\(prefix ready:\\).*approved calls and tasks fail`,
      ),
    );
    expect(down.body.checks.find((c) => c.plugin === 'tasks').ok).toBe(false);
    // without a token, only whether it is ready
    const anonymous = await fetch(new URL('/readyz', http.url));
    expect(anonymous.status).toBe(503);
    expect(await anonymous.json()).toEqual({ ready: false });

    redis = await startRedis(redisPort);
    const back = await until('/readyz answers 200 again', async () => {
      const r = await readyz();
      return r.status === 200 ? r : undefined;
    });
    expect(back.body.checks.every((c) => c.ok)).toBe(true);
  });

  it('tasks/cancel sent to replica B stops the call running as a task on replica A', async () => {
    const backend = newBackend();
    backend.guest.stopAfterChecks = 1_000_000; // the guest never stops by itself
    const a = await replica(backend, 'cancel:');
    const b = await replica(backend, 'cancel:');
    const dry = await rpc(a.http, 'tools/call', { name: 'ops_stop', arguments: { vmid: 100 } });
    const { approval } = dry.structuredContent;
    const { task } = await rpc(a.http, 'tools/call', {
      name: 'ops_stop',
      arguments: { vmid: 100, approval },
      task: {},
    });
    expect(task.status).toBe('working');
    await until('the call polls the guest on A', async () => (backend.guest.checks > 2 ? true : undefined));
    expect(a.app.tasks?.active).toBe(1);

    const cancelled = await rpc(b.http, 'tasks/cancel', { taskId: task.taskId });
    expect(cancelled.status).toBe('cancelled');
    // A sees the cancel in Redis and aborts its call: the task's answer, read through B, says so
    const result = await rpc(b.http, 'tasks/result', { taskId: task.taskId });
    expect(result.isError).toBe(true);
    expect(result._meta['infra-mcp/error'].code).toBe('cancelled');
    await until('A runs no task', async () => (a.app.tasks?.active === 0 ? true : undefined));
    const checks = backend.guest.checks;
    await new Promise((r) => setTimeout(r, 300));
    expect(backend.guest.checks).toBe(checks); // the backend is no longer polled
  });
});
