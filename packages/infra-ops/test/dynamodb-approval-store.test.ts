/** Used approval tokens in DynamoDB (dynalite): single use across replicas sharing the table. */
import { randomBytes } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';
import { createServer } from '@infra-mcp/core';
import { connect, quietLogger, type TestClient } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Backend, newBackend, ops } from '../../core/test/ops-plugin.js';
import { DynamoApprovalStore } from '../src/index.js';
import { CREDENTIALS, startDynamo } from './aws-servers.js';

let ddb: Awaited<ReturnType<typeof startDynamo>>;
beforeAll(async () => {
  ddb = await startDynamo();
});
afterAll(async () => {
  await ddb?.close();
});

const secret = randomBytes(24).toString('base64url');
const storeOf = (table: string, endpoint = ddb.url) =>
  new DynamoApprovalStore({
    table,
    endpoint,
    region: 'us-east-1',
    credentials: { ...CREDENTIALS },
    timeoutMs: 1000,
  });

function replica(backend: Backend, table: string, endpoint?: string): Promise<TestClient> {
  return connect(
    createServer({
      env: {},
      logger: quietLogger,
      plugins: [ops({ backend })],
      approvals: { secret, store: storeOf(table, endpoint) },
      audit: [],
    }),
  );
}
const args = { objects: [{ name: 'cm-1', spec: 'b' }] };

describe('DynamoApprovalStore (dynalite)', () => {
  it('creates its table, has the table as scope, and a conditional put is the single use', async () => {
    const a = storeOf('mcp_approvals');
    const b = storeOf('mcp_approvals');
    expect(a.scope).toBe('dynamodb:mcp_approvals');
    const exp = Date.now() + 60_000;
    expect(await a.used('t1')).toBe(false);
    const both = await Promise.all([a.consume('t1', exp), b.consume('t1', exp)]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect(await b.used('t1')).toBe(true);
    expect(await a.consume('t1', exp)).toBe(false);
    await a.close();
    await b.close();
  });

  it('a token from replica A executes once on B; sent to both at the same instant, once (10 rounds)', async () => {
    const backend = newBackend();
    const A = await replica(backend, 'shared');
    const B = await replica(backend, 'shared');
    const dry = await A.call('ops_apply', args);
    const done = await B.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(done.isError, done.text).toBe(false);
    const again = await A.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(again.text).toMatch(/already used/);
    for (let round = 0; round < 10; round++) {
      const a = { objects: [{ name: `obj-${round}`, spec: 'x' }] };
      const token = (await A.call('ops_apply', a)).structured.approval;
      const results = await Promise.all([
        A.call('ops_apply', { ...a, approval: token }),
        B.call('ops_apply', { ...a, approval: token }),
      ]);
      expect(
        results.filter((r) => !r.isError),
        `round ${round}`,
      ).toHaveLength(1);
    }
    expect(backend.applies).toHaveLength(11);
    await A.close();
    await B.close();
  });

  it('a replica on another table (another deployment) refuses the token', async () => {
    const backend = newBackend();
    const A = await replica(backend, 'team-a');
    const B = await replica(backend, 'team-b');
    const dry = await A.call('ops_apply', args);
    const r = await B.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(r.errorCode).toBe('approval_invalid');
    expect(backend.applies).toEqual([]);
    await A.close();
    await B.close();
  });

  it('fails closed when the table cannot be reached: the change does not run, the error names the table', async () => {
    const srv = createNetServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const backend = newBackend();
    const A = await replica(backend, 'gone', `http://127.0.0.1:${port}`);
    const dry = await A.call('ops_apply', args);
    expect(dry.isError, dry.text).toBe(false);
    const r = await A.call('ops_apply', { ...args, approval: dry.structured.approval });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(new RegExp(`DynamoDB approval table gone at http://127.0.0.1:${port}`));
    expect(backend.applies).toEqual([]);
    await A.close();
  });
});
