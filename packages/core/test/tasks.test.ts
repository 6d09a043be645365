import { connect, quietLogger, type TestClient } from '@infra-mcp/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  CreateTaskResultSchema,
  GetTaskResultSchema,
  ListTasksResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { connectInMemory } from '../src/client.js';
import { serveHttp } from '../src/http.js';
import { createServer, MemoryAuditSink, MemoryTaskStore } from '../src/index.js';
import { type Backend, newBackend, ops } from './ops-plugin.js';

type AnyClient = TestClient['client'];

/** tools/call with `task`, as a task-aware client sends it. */
const callAsTask = (client: AnyClient, name: string, args: Record<string, unknown>, ttl?: number) =>
  client.request(
    { method: 'tools/call', params: { name, arguments: args, task: ttl === undefined ? {} : { ttl } } },
    CreateTaskResultSchema,
  );
const getTask = (client: AnyClient, taskId: string) =>
  client.request({ method: 'tasks/get', params: { taskId } }, GetTaskResultSchema);
const taskResult = (client: AnyClient, taskId: string) =>
  client.request({ method: 'tasks/result', params: { taskId } }, CallToolResultSchema);

/** Polls tasks/get until `until` holds (or fails after 5 s). */
async function waitFor(client: AnyClient, taskId: string, until: (t: any) => boolean) {
  const end = Date.now() + 5000;
  for (;;) {
    const t = await getTask(client, taskId);
    if (until(t)) return t;
    if (Date.now() > end) throw new Error(`task never got there; last: ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function approvedStop(t: TestClient, vmid = 100) {
  const dry = await t.call('ops_stop', { vmid });
  return { vmid, approval: dry.structured.approval as string };
}

describe('MCP tasks: long operations for clients that support them', () => {
  it('declares tasks and lists write tools as task-capable, reads not', async () => {
    const t = await connect([ops({ backend: newBackend() })]);
    expect(t.client.getServerCapabilities()?.tasks).toEqual({
      list: {},
      cancel: {},
      requests: { tools: { call: {} } },
    });
    const tools = Object.fromEntries((await t.listTools()).map((x) => [x.name, x]));
    expect(tools.ops_stop.execution).toEqual({ taskSupport: 'optional' });
    expect(tools.ops_apply.execution).toEqual({ taskSupport: 'optional' });
    expect(tools.ops_logs.execution).toBeUndefined();
    await t.close();
  });

  it('runs an approved vm stop as a task past the tool timeout, with its progress as the task status', async () => {
    const backend = newBackend();
    // 40 checks x 20 ms: well past the 300 ms tool timeout, where a direct call answers "still running"
    backend.guest.stopAfterChecks = 40;
    const t = await connect([ops({ backend })], { timeoutMs: 300 });
    const created = await callAsTask(t.client, 'ops_stop', await approvedStop(t), 60_000);
    expect(created.task).toMatchObject({ status: 'working', ttl: 60_000, pollInterval: expect.any(Number) });
    const working = await waitFor(t.client, created.task.taskId, (x) => x.statusMessage !== undefined);
    expect(working).toMatchObject({ status: 'working', statusMessage: 'waiting for guest 100 to shut down' });
    const result: any = await taskResult(t.client, created.task.taskId);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ dryRun: false, result: { state: 'stopped' } });
    expect(result._meta['io.modelcontextprotocol/related-task']).toEqual({ taskId: created.task.taskId });
    expect(backend.guest.checks).toBe(40);
    const done = await getTask(t.client, created.task.taskId);
    expect(done.status).toBe('completed');
    expect(t.audit.records.at(-1)).toMatchObject({ tool: 'ops_stop', outcome: 'ok', phase: 'outcome' });
    await t.close();
  });

  it('works with the SDK client task stream (created, status, result)', async () => {
    const backend = newBackend();
    backend.guest.stopAfterChecks = 5;
    const t = await connect([ops({ backend })]);
    await t.listTools(); // the SDK client learns which tools run as tasks from tools/list
    const seen: string[] = [];
    let final: any;
    for await (const m of t.client.experimental.tasks.callToolStream({
      name: 'ops_stop',
      arguments: await approvedStop(t),
    })) {
      seen.push(m.type);
      if (m.type === 'result') final = m.result;
      if (m.type === 'error') throw m.error;
    }
    expect(seen[0]).toBe('taskCreated');
    expect(seen).toContain('taskStatus');
    expect(seen.at(-1)).toBe('result');
    expect(final.structuredContent.result).toEqual({ state: 'stopped' });
    await t.close();
  });

  it('tasks/cancel aborts the call: the poll stops, the task is cancelled, tasks/result tells what the call answered', async () => {
    const backend = newBackend();
    backend.guest.stopAfterChecks = 1_000_000;
    const t = await connect([ops({ backend })]);
    const { task } = await callAsTask(t.client, 'ops_stop', await approvedStop(t));
    await waitFor(t.client, task.taskId, (x) => x.statusMessage !== undefined);
    const cancelled = await t.client.experimental.tasks.cancelTask(task.taskId);
    expect(cancelled.status).toBe('cancelled');
    const result: any = await taskResult(t.client, task.taskId);
    expect(result.isError).toBe(true);
    expect(result._meta['infra-mcp/error'].code).toBe('cancelled');
    const checks = backend.guest.checks;
    await new Promise((r) => setTimeout(r, 100));
    expect(backend.guest.checks).toBe(checks); // no more polling of the backend
    expect((await getTask(t.client, task.taskId)).status).toBe('cancelled');
    await expect(t.client.experimental.tasks.cancelTask(task.taskId)).rejects.toThrow(
      /terminal status: cancelled/,
    );
    expect(t.audit.records.at(-1)).toMatchObject({
      tool: 'ops_stop',
      outcome: 'error',
      errorCode: 'cancelled',
    });
    await t.close();
  });

  it("another connection's task id is not found: tasks are bound to their caller", async () => {
    const backend = newBackend();
    backend.guest.stopAfterChecks = 1_000_000;
    const t = await connect([ops({ backend })]);
    const other = await connectInMemory(t.server);
    const { task } = await callAsTask(t.client, 'ops_stop', await approvedStop(t));
    await expect(getTask(other, task.taskId)).rejects.toThrow(/Task not found/);
    await expect(other.experimental.tasks.cancelTask(task.taskId)).rejects.toThrow(/Task not found/);
    await expect(taskResult(other, task.taskId)).rejects.toThrow(/Task not found/);
    expect((await other.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema)).tasks).toEqual(
      [],
    );
    const mine = await t.client.request({ method: 'tasks/list', params: {} }, ListTasksResultSchema);
    expect(mine.tasks.map((x) => x.taskId)).toEqual([task.taskId]);
    expect((await getTask(t.client, task.taskId)).status).toBe('working');
    await t.client.experimental.tasks.cancelTask(task.taskId);
    await other.close();
    await t.close();
  });

  it('a task of a connection the transport does not identify ends when that client goes away', async () => {
    const backend = newBackend();
    backend.guest.stopAfterChecks = 1_000_000;
    const t = await connect([ops({ backend })]);
    const { task } = await callAsTask(t.client, 'ops_stop', await approvedStop(t));
    await waitFor(t.client, task.taskId, (x) => x.statusMessage !== undefined);
    await t.client.close();
    await new Promise((r) => setTimeout(r, 100));
    const checks = backend.guest.checks;
    await new Promise((r) => setTimeout(r, 100));
    expect(backend.guest.checks).toBe(checks);
    expect(t.audit.records.at(-1)).toMatchObject({
      tool: 'ops_stop',
      outcome: 'error',
      errorCode: 'cancelled',
    });
    await t.server.close();
  });

  it('a client that does not ask for a task gets the tool-poll "still running" answer, as before', async () => {
    const backend = newBackend();
    backend.guest.stopAfterChecks = 1_000_000;
    const t = await connect([ops({ backend })], { timeoutMs: 300 });
    const r = await t.call('ops_stop', await approvedStop(t));
    expect(r.isError).toBe(false);
    expect(r.structured.operation).toMatchObject({
      id: 'UPID:node1:stop:100',
      status: 'running',
      poll: { tool: 'ops_task', arguments: { vmid: 100 } },
    });
    expect(await t.server.tasks!.list('', undefined)).toEqual({ tasks: [] });
    await t.close();
  });

  it('a read that did not opt in is refused as a task with method not found, and runs as a plain call', async () => {
    const t = await connect([ops({ backend: newBackend() })]);
    await expect(callAsTask(t.client, 'ops_logs', { slowAfter: 100_000 })).rejects.toMatchObject({
      code: -32601,
      message: expect.stringMatching(/ops_logs does not run as a task/),
    });
    expect((await t.call('ops_logs', { slowAfter: 100_000 })).structured.partial).toBe(false);
    await t.close();
  });

  it('a failed write ends the task as failed, its first line as status, the full error result in tasks/result', async () => {
    const backend = newBackend();
    backend.failing.add('b');
    const t = await connect([ops({ backend })]);
    const args = {
      objects: [
        { name: 'a', spec: '1' },
        { name: 'b', spec: '1' },
      ],
    };
    const dry = await t.call('ops_apply', args);
    const { task } = await callAsTask(t.client, 'ops_apply', { ...args, approval: dry.structured.approval });
    const failed = await waitFor(t.client, task.taskId, (x) => x.status !== 'working');
    expect(failed).toMatchObject({
      status: 'failed',
      statusMessage: expect.stringMatching(/object 2 of 2 \(b\)/),
    });
    const result: any = await taskResult(t.client, task.taskId);
    expect(result.isError).toBe(true);
    expect(result._meta['infra-mcp/error']).toMatchObject({
      code: 'apply_failed',
      details: { applied: ['a'] },
    });
    await t.close();
  });

  it('an approval asked by elicitation shows the task as input_required until the user answers', async () => {
    const backend = newBackend();
    backend.guest.stopAfterChecks = 2;
    let answer!: (approve: boolean) => void;
    const asked: string[] = [];
    const t = await connect([ops({ backend })], {
      approvals: { mode: 'elicit' },
      elicit: ({ message }) => {
        asked.push(message);
        return new Promise((resolve) => {
          answer = (approve) => resolve({ action: 'accept', content: { approve } });
        });
      },
    });
    const { task } = await callAsTask(t.client, 'ops_stop', { vmid: 5 });
    const waiting = await waitFor(t.client, task.taskId, (x) => x.status !== 'working');
    expect(waiting).toMatchObject({ status: 'input_required', statusMessage: 'waiting for the client' });
    expect(asked[0]).toMatch(/^ops_stop on ops\/default:/);
    answer(true);
    const result: any = await taskResult(t.client, task.taskId);
    expect(result.structuredContent.result).toEqual({ state: 'stopped' });
    expect((await getTask(t.client, task.taskId)).status).toBe('completed');
    await t.close();
  });

  it('a dry run asked as a task completes with the preview and its token', async () => {
    const t = await connect([ops({ backend: newBackend() })]);
    const { task } = await callAsTask(t.client, 'ops_stop', { vmid: 7 });
    const result: any = await taskResult(t.client, task.taskId);
    expect(result.structuredContent).toMatchObject({ dryRun: true, approval: expect.any(String) });
    const done = await t.call('ops_stop', { vmid: 7, approval: result.structuredContent.approval });
    expect(done.structured.result).toEqual({ state: 'stopped' });
    await t.close();
  });
});

describe('MCP tasks: bounds and lifetime', () => {
  it('a full store of running tasks refuses a new task, and a finished one makes room', async () => {
    const backend: Backend = newBackend();
    backend.guest.stopAfterChecks = 1_000_000;
    const t = await connect([ops({ backend })], { tasks: { store: new MemoryTaskStore({ maxTasks: 1 }) } });
    const first = await callAsTask(t.client, 'ops_stop', await approvedStop(t));
    await expect(callAsTask(t.client, 'ops_stop', await approvedStop(t))).rejects.toThrow(/Too many tasks/);
    await t.client.experimental.tasks.cancelTask(first.task.taskId);
    await taskResult(t.client, first.task.taskId);
    const second = await callAsTask(t.client, 'ops_stop', await approvedStop(t));
    await expect(getTask(t.client, first.task.taskId)).rejects.toThrow(/Task not found/);
    await t.client.experimental.tasks.cancelTask(second.task.taskId);
    await t.close();
  });

  it('a finished task is gone once its ttl has passed', async () => {
    let now = Date.now();
    const store = new MemoryTaskStore({ now: () => now });
    const t = await connect([ops({ backend: newBackend() })], { tasks: { store } });
    const { task } = await callAsTask(t.client, 'ops_stop', { vmid: 1 }, 5000);
    expect(task.ttl).toBe(5000);
    await taskResult(t.client, task.taskId);
    now += 59_000; // a task's answer is kept at least a minute after it ends
    expect((await getTask(t.client, task.taskId)).status).toBe('completed');
    now += 2_000;
    await expect(getTask(t.client, task.taskId)).rejects.toThrow(/Task not found/);
    await t.close();
  });
});

describe('MCP tasks over stateless HTTP', () => {
  it('tasks/get and tasks/result on later requests find the task; another token does not', async () => {
    const backend = newBackend();
    backend.guest.stopAfterChecks = 15;
    const app = createServer({
      plugins: [ops({ backend })],
      audit: [new MemoryAuditSink()],
      logger: quietLogger,
      env: {},
    });
    const http = await serveHttp(app, {
      port: 0,
      tokens: { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef0' },
    });
    const client = async (token: string) => {
      const c = new Client({ name: 'tasks-http', version: '1' });
      await c.connect(
        new StreamableHTTPClientTransport(new URL(http.url), {
          requestInit: { headers: { authorization: `Bearer ${token}` } },
        }),
      );
      return c;
    };
    const alice = await client('alice-token-0123456789abcdef');
    const bob = await client('bob-token-0123456789abcdef0');
    try {
      const dry: any = await alice.callTool({ name: 'ops_stop', arguments: { vmid: 9 } });
      const { task } = await callAsTask(alice, 'ops_stop', {
        vmid: 9,
        approval: dry.structuredContent.approval,
      });
      await expect(getTask(bob, task.taskId)).rejects.toThrow(/Task not found/);
      const result: any = await taskResult(alice, task.taskId);
      expect(result.structuredContent.result).toEqual({ state: 'stopped' });
      expect((await getTask(alice, task.taskId)).status).toBe('completed');
    } finally {
      await alice.close();
      await bob.close();
      await http.close();
      await app.close();
    }
  });
});
