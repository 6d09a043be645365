/** The aws write tools against s3rver and dynalite: previewed, approved, bound to what was previewed. */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { connect, type TestClient } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aws } from '../src/index.js';
import { CREDENTIALS, createPkSkTable, startDynamo, startS3 } from './aws-servers.js';

let s3srv: Awaited<ReturnType<typeof startS3>>;
let ddbsrv: Awaited<ReturnType<typeof startDynamo>>;
let s3: S3Client;
let ddb: DynamoDBClient;
let t: TestClient;
let readOnly: TestClient;

const textOf = async (Bucket: string, Key: string) =>
  (await s3.send(new GetObjectCommand({ Bucket, Key })).then((r) => r.Body?.transformToString())) ?? '';
const itemOf = async (sk: number) =>
  (
    await ddb.send(
      new GetItemCommand({ TableName: 'orders', Key: { pk: { S: 'u' }, sk: { N: String(sk) } } }),
    )
  ).Item;

beforeAll(async () => {
  s3srv = await startS3(['team-config', 'team-logs']);
  ddbsrv = await startDynamo();
  s3 = new S3Client({
    region: 'us-east-1',
    endpoint: s3srv.url,
    forcePathStyle: true,
    credentials: { ...CREDENTIALS },
  });
  ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: ddbsrv.url, credentials: { ...CREDENTIALS } });
  await s3.send(
    new PutObjectCommand({
      Bucket: 'team-config',
      Key: 'app.env',
      Body: 'LEVEL=info\nDB_PASSWORD=hunter2-old\n',
      ContentType: 'text/plain',
    }),
  );
  await s3.send(new PutObjectCommand({ Bucket: 'team-logs', Key: 'a.log', Body: 'x' }));
  await createPkSkTable(ddb, 'orders');
  await ddb.send(
    new PutItemCommand({
      TableName: 'orders',
      Item: { pk: { S: 'u' }, sk: { N: '1' }, total: { N: '10' }, state: { S: 'open' } },
    }),
  );
  const base = {
    region: 'us-east-1',
    endpoints: { s3: s3srv.url, dynamodb: ddbsrv.url },
    s3ForcePathStyle: true,
    credentials: { ...CREDENTIALS },
    allow: { bucket: ['team-*'], table: ['orders'] },
  };
  t = await connect([
    aws({ ...base, writes: { bucket: ['team-config'], table: ['orders'] }, maxPutBytes: 64 }),
  ]);
  readOnly = await connect([aws(base)]);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await readOnly?.close();
  s3?.destroy();
  ddb?.destroy();
  await s3srv?.close();
  await ddbsrv?.close();
});

describe('s3_put', () => {
  it('previews a line diff (credentials masked) and writes nothing; the approved call writes exactly that text', async () => {
    const text = 'LEVEL=debug\nDB_PASSWORD=hunter2-new\n';
    const dry = await t.call('aws_s3_put', { bucket: 'team-config', key: 'app.env', text });
    expect(dry.isError, dry.text).toBe(false);
    expect(dry.structured.preview).toMatchObject({ action: 'overwrite', object: 's3://team-config/app.env' });
    expect(dry.text).toContain('-LEVEL=info');
    expect(dry.text).toContain('+LEVEL=debug');
    expect(JSON.stringify(dry.raw)).not.toMatch(/hunter2/);
    expect(JSON.stringify(t.audit.records)).not.toMatch(/hunter2/);
    expect(await textOf('team-config', 'app.env')).toContain('LEVEL=info');

    const done = await t.call('aws_s3_put', {
      bucket: 'team-config',
      key: 'app.env',
      text,
      approval: dry.structured.approval,
    });
    expect(done.isError, done.text).toBe(false);
    expect(await textOf('team-config', 'app.env')).toBe(text);
    const again = await t.call('aws_s3_put', {
      bucket: 'team-config',
      key: 'app.env',
      text,
      approval: dry.structured.approval,
    });
    expect(again.errorCode).toBe('approval_invalid');
  });

  it("an object changed between preview and approval: stale, the other writer's text stays", async () => {
    const dry = await t.call('aws_s3_put', { bucket: 'team-config', key: 'app.env', text: 'mine\n' });
    await s3.send(new PutObjectCommand({ Bucket: 'team-config', Key: 'app.env', Body: 'theirs\n' }));
    const r = await t.call('aws_s3_put', {
      bucket: 'team-config',
      key: 'app.env',
      text: 'mine\n',
      approval: dry.structured.approval,
    });
    expect(r.errorCode).toBe('stale_plan');
    expect(await textOf('team-config', 'app.env')).toBe('theirs\n');
  });

  it('a new key is a create; the approval is bound to the text previewed', async () => {
    const dry = await t.call('aws_s3_put', { bucket: 'team-config', key: 'new.txt', text: 'hello\n' });
    expect(dry.structured.preview.action).toBe('create');
    const other = await t.call('aws_s3_put', {
      bucket: 'team-config',
      key: 'new.txt',
      text: 'something else\n',
      approval: dry.structured.approval,
    });
    expect(other.isError).toBe(true);
    await expect(textOf('team-config', 'new.txt')).rejects.toThrow();
    const ok = await t.call('aws_s3_put', {
      bucket: 'team-config',
      key: 'new.txt',
      text: 'hello\n',
      approval: dry.structured.approval,
    });
    expect(ok.isError, ok.text).toBe(false);
    expect(await textOf('team-config', 'new.txt')).toBe('hello\n');
  });

  it('refuses a bucket readable but not writable, a read-only instance (naming the key), and too much text', async () => {
    const notWritable = await t.call('aws_s3_put', { bucket: 'team-logs', key: 'a.log', text: 'y' });
    expect(notWritable.errorCode).toBe('denied_by_policy');
    expect(notWritable.text).toMatch(/not writable.*plugins\.aws\.writes\.bucket/);
    const ro = await readOnly.call('aws_s3_put', { bucket: 'team-config', key: 'x', text: 'y' });
    expect(ro.errorCode).toBe('writes_disabled');
    expect(ro.text).toMatch(/plugins\.aws\.writes\.bucket/);
    const big = await t.call('aws_s3_put', { bucket: 'team-config', key: 'x', text: 'y'.repeat(65) });
    expect(big.errorCode).toBe('too_large');
    expect(await textOf('team-logs', 'a.log')).toBe('x');
  });
});

describe('s3_delete', () => {
  it('is destructive, previews the object, and deletes it only when approved', async () => {
    const tool = (await t.listTools()).find((x) => x.name === 'aws_s3_delete');
    expect(tool).toBeUndefined(); // the writes toolset is not listed by default, but callable
    const dry = await t.call('aws_s3_delete', { bucket: 'team-config', key: 'new.txt' });
    expect(dry.structured.preview).toMatchObject({ object: 's3://team-config/new.txt', size: 6 });
    expect(await textOf('team-config', 'new.txt')).toBe('hello\n');
    const done = await t.call('aws_s3_delete', {
      bucket: 'team-config',
      key: 'new.txt',
      approval: dry.structured.approval,
    });
    expect(done.isError, done.text).toBe(false);
    await expect(textOf('team-config', 'new.txt')).rejects.toThrow();
    const missing = await t.call('aws_s3_delete', { bucket: 'team-config', key: 'new.txt' });
    expect(missing.errorCode).toBe('not_found');
  });
});

describe('dynamodb_put_item and dynamodb_delete_item', () => {
  it('put: preview lists the attributes that change; approved replaces the item', async () => {
    const item = { pk: 'u', sk: 1, total: 12, state: 'open', tags: ['x'] };
    const dry = await t.call('aws_dynamodb_put_item', { table: 'orders', item });
    expect(dry.isError, dry.text).toBe(false);
    expect(dry.structured.preview.action).toBe('replace');
    expect(dry.structured.preview.changes).toEqual([
      { attribute: 'tags', after: ['x'] },
      { attribute: 'total', before: 10, after: 12 },
    ]);
    expect((await itemOf(1))?.total).toEqual({ N: '10' });
    const done = await t.call('aws_dynamodb_put_item', {
      table: 'orders',
      item,
      approval: dry.structured.approval,
    });
    expect(done.isError, done.text).toBe(false);
    expect((await itemOf(1))?.tags).toEqual({ L: [{ S: 'x' }] });
  });

  it('put: an item changed since the preview is stale; a missing key attribute is named', async () => {
    const dry = await t.call('aws_dynamodb_put_item', {
      table: 'orders',
      item: { pk: 'u', sk: 1, total: 99 },
    });
    await ddb.send(
      new PutItemCommand({
        TableName: 'orders',
        Item: { pk: { S: 'u' }, sk: { N: '1' }, total: { N: '50' } },
      }),
    );
    const r = await t.call('aws_dynamodb_put_item', {
      table: 'orders',
      item: { pk: 'u', sk: 1, total: 99 },
      approval: dry.structured.approval,
    });
    expect(r.errorCode).toBe('stale_plan');
    expect((await itemOf(1))?.total).toEqual({ N: '50' });
    const bad = await t.call('aws_dynamodb_put_item', { table: 'orders', item: { pk: 'u' } });
    expect(bad.text).toMatch(/no sk: table orders is keyed by pk \+ sk/);
  });

  it('delete: destructive, previews the item, deletes it when approved; unknown keys refused', async () => {
    const extra = await t.call('aws_dynamodb_delete_item', {
      table: 'orders',
      key: { pk: 'u', sk: 1, total: 1 },
    });
    expect(extra.text).toMatch(/total is not part of the key/);
    const dry = await t.call('aws_dynamodb_delete_item', { table: 'orders', key: { pk: 'u', sk: 1 } });
    expect(dry.structured.preview.item).toEqual({ pk: 'u', sk: 1, total: 50 });
    expect(await itemOf(1)).toBeDefined();
    const done = await t.call('aws_dynamodb_delete_item', {
      table: 'orders',
      key: { pk: 'u', sk: 1 },
      approval: dry.structured.approval,
    });
    expect(done.isError, done.text).toBe(false);
    expect(await itemOf(1)).toBeUndefined();
    const ro = await readOnly.call('aws_dynamodb_delete_item', { table: 'orders', key: { pk: 'u', sk: 2 } });
    expect(ro.errorCode).toBe('writes_disabled');
  });
});

describe('the operations log', () => {
  it('keeps s3_put text as its SHA-256 and size, so the record proves what was written without holding it', async () => {
    const text = 'API_TOKEN=tok-in-content-77\n';
    const dry = await t.call('aws_s3_put', { bucket: 'team-config', key: 'tok.env', text });
    await t.call('aws_s3_put', {
      bucket: 'team-config',
      key: 'tok.env',
      text,
      approval: dry.structured.approval,
    });
    const records = t.audit.records.filter(
      (r) => r.tool === 'aws_s3_put' && (r.args as any).key === 'tok.env',
    );
    expect(records.length).toBeGreaterThanOrEqual(2);
    const { createHash } = await import('node:crypto');
    for (const r of records)
      expect((r.args as any).text).toEqual({
        sha256: createHash('sha256').update(text).digest('hex'),
        bytes: 28,
      });
    expect(JSON.stringify(t.audit.records)).not.toContain('tok-in-content-77');
  });
});
