/** The aws tools against real protocol servers on loopback: s3rver and dynalite (endpoint override only). */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { connect, type TestClient } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aws } from '../src/index.js';
import { CREDENTIALS, createPkSkTable, startDynamo, startS3 } from './aws-servers.js';

let s3srv: Awaited<ReturnType<typeof startS3>>;
let ddbsrv: Awaited<ReturnType<typeof startDynamo>>;
let t: TestClient;

beforeAll(async () => {
  s3srv = await startS3(['team-logs', 'secret-bucket']);
  ddbsrv = await startDynamo();
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: s3srv.url,
    forcePathStyle: true,
    credentials: { ...CREDENTIALS },
  });
  for (let i = 0; i < 30; i++)
    await s3.send(
      new PutObjectCommand({
        Bucket: 'team-logs',
        Key: `2026/11/log-${String(i).padStart(2, '0')}.txt`,
        Body: `line ${i}\n`,
        ContentType: 'text/plain',
      }),
    );
  await s3.send(
    new PutObjectCommand({
      Bucket: 'team-logs',
      Key: 'docs/readme.txt',
      Body: 'hi',
      ContentType: 'text/plain',
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: 'team-logs',
      Key: 'big.txt',
      Body: 'x'.repeat(10_000),
      ContentType: 'text/plain',
    }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: 'team-logs',
      Key: 'img.png',
      Body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]),
      ContentType: 'image/png',
    }),
  );
  await s3.send(new PutObjectCommand({ Bucket: 'secret-bucket', Key: 'k', Body: 'no' }));
  s3.destroy();
  const ddb = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: ddbsrv.url,
    credentials: { ...CREDENTIALS },
  });
  for (const name of ['orders', 'secrets']) await createPkSkTable(ddb, name);
  for (let i = 0; i < 25; i++)
    await ddb.send(
      new PutItemCommand({
        TableName: 'orders',
        Item: {
          pk: { S: i < 20 ? 'user#1' : 'user#2' },
          sk: { N: String(i) },
          total: { N: String(i * 10) },
          tags: { SS: ['a', 'b'] },
        },
      }),
    );
  ddb.destroy();
  t = await connect([
    aws({
      region: 'us-east-1',
      endpoints: { s3: s3srv.url, dynamodb: ddbsrv.url },
      s3ForcePathStyle: true,
      credentials: { ...CREDENTIALS },
      maxGetBytes: 4096,
      allow: { bucket: ['team-*'], table: ['orders'] },
    }),
  ]);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await s3srv?.close();
  await ddbsrv?.close();
});

describe('S3', () => {
  it('s3_buckets lists only allowed buckets', async () => {
    const r = await t.call('aws_s3_buckets', {});
    expect(r.structured.buckets.map((b: { name: string }) => b.name)).toEqual(['team-logs']);
    expect(r.structured.hidden).toBe(1);
  });
  it('s3_objects: prefix, folders, limit and cursor through every key', async () => {
    const top = await t.call('aws_s3_objects', { bucket: 'team-logs' });
    // s3rver 3.7 leaves out common prefixes of keys nested two levels deep (2026/11/...); S3 does not
    expect(top.structured.folders, top.text).toContain('docs/');
    expect(top.structured.objects.map((o: { key: string }) => o.key)).toEqual(['big.txt', 'img.png']);
    const keys: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await t.call('aws_s3_objects', {
        bucket: 'team-logs',
        prefix: '2026/11/',
        limit: 7,
        ...(cursor ? { cursor } : {}),
      });
      expect(r.isError, r.text).toBe(false);
      keys.push(...r.structured.objects.map((o: { key: string }) => o.key));
      cursor = r.structured.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(keys).toHaveLength(30);
    expect(new Set(keys).size).toBe(30);
    expect(pages).toBe(5);
  });
  it('s3_get: text shown, big text capped, binary refused with size and type', async () => {
    const r = await t.call('aws_s3_get', { bucket: 'team-logs', key: '2026/11/log-03.txt' });
    expect(r.structured).toMatchObject({ text: 'line 3\n', contentType: 'text/plain', truncated: false });
    const big = await t.call('aws_s3_get', { bucket: 'team-logs', key: 'big.txt' });
    expect(big.structured).toMatchObject({ size: 10_000, truncated: true });
    expect(big.structured.text).toHaveLength(4096);
    const bin = await t.call('aws_s3_get', { bucket: 'team-logs', key: 'img.png' });
    expect(bin.errorCode).toBe('binary_object');
    expect(bin.text).toMatch(/binary \(image\/png, 8B\)/);
  });
  it('a missing key is an error; buckets outside the allow-list are refused before any request', async () => {
    const r = await t.call('aws_s3_get', { bucket: 'team-logs', key: 'nope' });
    expect(r.errorCode).toBe('not_found');
    const d = await t.call('aws_s3_objects', { bucket: 'secret-bucket' });
    expect(d.errorCode).toBe('denied_by_policy');
    expect(d.text).toMatch(/bucket "secret-bucket" is not allowed.*team-\*/);
  });
});

describe('DynamoDB', () => {
  it('dynamodb_tables applies the allow-list', async () => {
    const r = await t.call('aws_dynamodb_tables', {});
    expect(r.structured.tables).toEqual(['orders']);
  });
  it('dynamodb_query: key condition, plain JSON items, limit and cursor', async () => {
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const r = await t.call('aws_dynamodb_query', {
        table: 'orders',
        keyCondition: 'pk = :pk',
        values: { ':pk': 'user#1' },
        limit: 6,
        ...(cursor ? { cursor } : {}),
      });
      expect(r.isError, r.text).toBe(false);
      seen.push(...r.structured.items.map((i: { sk: number }) => i.sk));
      if (seen.length === 6)
        expect(r.structured.items[0]).toEqual({ pk: 'user#1', sk: 0, total: 0, tags: ['a', 'b'] });
      cursor = r.structured.nextCursor;
    } while (cursor && seen.length < 100);
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
  it('dynamodb_scan pages the whole table', async () => {
    const r = await t.call('aws_dynamodb_scan', { table: 'orders', limit: 10 });
    expect(r.structured.items).toHaveLength(10);
    expect(r.structured.nextCursor).toEqual(expect.any(String));
  });
  it('bad expressions and tables outside the allow-list are errors', async () => {
    const bad = await t.call('aws_dynamodb_query', {
      table: 'orders',
      keyCondition: 'nope = :x',
      values: { ':x': 1 },
    });
    expect(bad.isError).toBe(true);
    expect(bad.text).toMatch(/ValidationException/);
    const denied = await t.call('aws_dynamodb_scan', { table: 'secrets' });
    expect(denied.errorCode).toBe('denied_by_policy');
  });
  it('every tool is read-only', async () => {
    const tools = await t.listTools();
    expect(tools.every((x: { annotations: { readOnlyHint: boolean } }) => x.annotations.readOnlyHint)).toBe(
      true,
    );
  });
});
