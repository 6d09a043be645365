/** The DynamoDB operations-log sink against dynalite: records land, chained; an unreachable table fails writes closed. */
import { createServer } from 'node:net';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { verifyAuditSink } from '@infra-mcp/core';
import { connect } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { argocd, dynamoAuditSink } from '../src/index.js';
import { type ArgoFake, startArgoFake } from './argocd-fake.js';
import { CREDENTIALS, startDynamo } from './aws-servers.js';

let ddb: Awaited<ReturnType<typeof startDynamo>>;
let fake: ArgoFake;
beforeAll(async () => {
  ddb = await startDynamo();
  fake = await startArgoFake({ apps: 5 });
});
afterAll(async () => {
  await ddb?.close();
  await fake?.close();
});

describe('dynamoAuditSink', () => {
  it('creates mcp_ops_log when missing and stores every record of a write, intent and outcome', async () => {
    const sink = dynamoAuditSink({ endpoint: ddb.url, region: 'us-east-1', credentials: { ...CREDENTIALS } });
    const t = await connect([argocd({ url: fake.url, token: fake.token, pollIntervalMs: 5 })], {
      audit: [sink],
    });
    const dry = await t.call('argocd_sync', { app: 'app-003' });
    const done = await t.call('argocd_sync', { app: 'app-003', approval: dry.structured.approval });
    expect(done.isError, done.text).toBe(false);
    await t.close();
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: ddb.url,
      credentials: { ...CREDENTIALS },
    });
    const items = (await client.send(new ScanCommand({ TableName: 'mcp_ops_log' }))).Items ?? [];
    client.destroy();
    const records = items.map((i) => JSON.parse(i.record!.S!)).sort((a, b) => a.seq - b.seq);
    expect(records.map((r) => [r.tool, r.outcome, r.phase])).toEqual([
      ['argocd_sync', 'dry_run', undefined],
      ['argocd_sync', 'intent', 'intent'],
      ['argocd_sync', 'ok', 'outcome'],
    ]);
    expect(new Set(records.map((r) => r.chain)).size).toBe(1);
    expect(JSON.stringify(records)).not.toContain(fake.token);
  });

  it('an unreachable table: the write is refused before it runs, and the error says why', async () => {
    // a port that accepts nothing
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const sink = dynamoAuditSink({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { ...CREDENTIALS },
      timeoutMs: 1000,
    });
    const t = await connect([argocd({ url: fake.url, token: fake.token, pollIntervalMs: 5 })], {
      audit: [sink],
    });
    const before = fake.syncs.filter((s) => !s.dryRun).length;
    const dry = await t.call('argocd_sync', { app: 'app-004' });
    const r = await t.call('argocd_sync', { app: 'app-004', approval: dry.structured.approval });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('audit_failed');
    expect(r.text).toMatch(
      new RegExp(`DynamoDB audit table mcp_ops_log at http://127.0.0.1:${port}: \\w+ failed`),
    );
    expect(fake.syncs.filter((s) => !s.dryRun).length).toBe(before);
    await t.close();
  });

  it('verify reads every chain back (two servers sharing the table) and finds a changed or removed record', async () => {
    const key = 'ab'.repeat(32); // replicas share the chain key, from the environment
    vi.stubEnv('INFRA_MCP_AUDIT_KEY', key);
    const opts = {
      table: 'shared_log',
      endpoint: ddb.url,
      region: 'us-east-1',
      credentials: { ...CREDENTIALS },
    };
    for (const app of ['app-001', 'app-002']) {
      const t = await connect([argocd({ url: fake.url, token: fake.token, pollIntervalMs: 5 })], {
        audit: [dynamoAuditSink(opts)],
      });
      const dry = await t.call('argocd_sync', { app });
      await t.call('argocd_sync', { app, approval: dry.structured.approval });
      await t.close();
    }
    const ok = await verifyAuditSink(dynamoAuditSink(opts), { key });
    expect(ok.ok, JSON.stringify(ok.error)).toBe(true);
    expect(ok.records).toBe(6);
    expect(ok.chains?.map((c) => [c.records, c.firstSeq, c.lastSeq])).toEqual([
      [3, 1, 3],
      [3, 1, 3],
    ]);
    const wrongKey = await verifyAuditSink(dynamoAuditSink(opts), { key: 'cd'.repeat(32) });
    expect(wrongKey.error?.problem).toMatch(/written with another key/);

    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: ddb.url,
      credentials: { ...CREDENTIALS },
    });
    const chain = ok.chains![1]!.chain;
    const item = (
      await client.send(
        new GetItemCommand({ TableName: 'shared_log', Key: { chain: { S: chain }, seq: { N: '2' } } }),
      )
    ).Item!;
    const record = JSON.parse(item.record!.S!);
    await client.send(
      new PutItemCommand({
        TableName: 'shared_log',
        Item: { ...item, record: { S: JSON.stringify({ ...record, outcome: 'dry_run' }) } },
      }),
    );
    const changed = await verifyAuditSink(dynamoAuditSink(opts), { key });
    expect(changed.ok).toBe(false);
    expect(changed.error).toMatchObject({ chain, problem: expect.stringMatching(/does not match its hash/) });

    await client.send(new PutItemCommand({ TableName: 'shared_log', Item: item }));
    await client.send(
      new DeleteItemCommand({ TableName: 'shared_log', Key: { chain: { S: chain }, seq: { N: '2' } } }),
    );
    client.destroy();
    const removed = await verifyAuditSink(dynamoAuditSink(opts), { key });
    expect(removed.error?.problem).toMatch(
      new RegExp(`chain ${chain} \\(seq 1 then 3: a record was removed`),
    );
    vi.unstubAllEnvs();
  });
});
