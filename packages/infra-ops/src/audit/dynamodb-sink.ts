/**
 * An audit sink writing core's audit records (the operations log) to a DynamoDB table, for fleets of
 * servers. Name it in the app's config:
 *
 *   audit:
 *     sinks:
 *       - jsonl
 *       - { module: '@infra-mcp/infra-ops', export: dynamoAuditSink, options: { table: mcp_ops_log, region: eu-west-1 } }
 *
 * Items: `chain` (hash key) and `seq` (range key), the record's `id`, `tool`, `start`, `outcome`
 * for queries, and the whole record as JSON in `record`, stored as it arrives (never re-chained),
 * never overwritten (conditional put). The table is created (on-demand billing) when missing and
 * `create` is on. When the table cannot be reached, `check()` throws saying why, so writes fail
 * closed; reads are served and the loss counted by core.
 */

import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { AuditRecord, AuditSink } from '@infra-mcp/core';

export interface DynamoAuditSinkOptions {
  /** Table name (default mcp_ops_log). */
  table?: string;
  region?: string;
  /** Endpoint override (DynamoDB Local, a VPC endpoint). */
  endpoint?: string;
  /** Static credentials; else the default provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Create the table when it does not exist (default true). */
  create?: boolean;
  /** Per-request timeout in ms (default 5000). */
  timeoutMs?: number;
}

const CHECK_TTL_MS = 5000;

export class DynamoAuditSink implements AuditSink {
  readonly name: string;
  readonly table: string;
  private client?: Promise<DynamoDBClient>;
  private ready?: Promise<void>;
  private checkedAt = 0;

  constructor(private readonly options: DynamoAuditSinkOptions = {}) {
    this.table = options.table ?? 'mcp_ops_log';
    this.name = `dynamodb:${this.table}`;
  }

  private where(): string {
    return `DynamoDB audit table ${this.table}${this.options.endpoint ? ` at ${this.options.endpoint}` : ` in ${this.options.region ?? 'the default region'}`}`;
  }

  private fail(what: string, e: unknown): Error {
    const err = e as { name?: string; message?: string };
    return new Error(
      `${this.where()}: ${what} failed: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message ?? String(e)}`,
    );
  }

  private async ddb(): Promise<DynamoDBClient> {
    this.client ??= (async () => {
      const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
      const t = this.options.timeoutMs ?? 5000;
      return new DynamoDBClient({
        region: this.options.region ?? 'us-east-1',
        endpoint: this.options.endpoint,
        ...(this.options.credentials ? { credentials: { ...this.options.credentials } } : {}),
        maxAttempts: 1,
        requestHandler: { connectionTimeout: t, requestTimeout: t },
      });
    })();
    return this.client;
  }

  /** The table exists (created when missing and allowed) and is ACTIVE. */
  private ensure(): Promise<void> {
    this.ready ??= (async () => {
      const sdk = await import('@aws-sdk/client-dynamodb');
      const ddb = await this.ddb();
      try {
        const d = await ddb.send(new sdk.DescribeTableCommand({ TableName: this.table }));
        if (d.Table?.TableStatus === 'ACTIVE') return;
      } catch (e) {
        if ((e as { name?: string }).name !== 'ResourceNotFoundException')
          throw this.fail('DescribeTable', e);
        if (this.options.create === false)
          throw new Error(`${this.where()} does not exist (create it, or set options.create: true)`);
        try {
          await ddb.send(
            new sdk.CreateTableCommand({
              TableName: this.table,
              AttributeDefinitions: [
                { AttributeName: 'chain', AttributeType: 'S' },
                { AttributeName: 'seq', AttributeType: 'N' },
              ],
              KeySchema: [
                { AttributeName: 'chain', KeyType: 'HASH' },
                { AttributeName: 'seq', KeyType: 'RANGE' },
              ],
              BillingMode: 'PAY_PER_REQUEST',
            }),
          );
        } catch (c) {
          // another replica created it first
          if ((c as { name?: string }).name !== 'ResourceInUseException') throw this.fail('CreateTable', c);
        }
      }
      for (let i = 0; i < 60; i++) {
        const d = await ddb.send(new sdk.DescribeTableCommand({ TableName: this.table })).catch((e) => {
          throw this.fail('DescribeTable', e);
        });
        if (d.Table?.TableStatus === 'ACTIVE') return;
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`${this.where()} did not become ACTIVE within 30 s`);
    })().catch((e) => {
      this.ready = undefined; // try again at the next record
      throw e;
    });
    return this.ready;
  }

  async check(): Promise<void> {
    await this.ensure();
    if (Date.now() - this.checkedAt < CHECK_TTL_MS) return;
    const sdk = await import('@aws-sdk/client-dynamodb');
    const ddb = await this.ddb();
    await ddb.send(new sdk.DescribeTableCommand({ TableName: this.table })).catch((e) => {
      throw this.fail('DescribeTable', e);
    });
    this.checkedAt = Date.now();
  }

  async append(record: AuditRecord): Promise<void> {
    await this.ensure();
    const sdk = await import('@aws-sdk/client-dynamodb');
    const ddb = await this.ddb();
    await ddb
      .send(
        new sdk.PutItemCommand({
          TableName: this.table,
          Item: {
            chain: { S: record.chain ?? 'v1' },
            seq: { N: String(record.seq ?? Date.now()) },
            id: { S: record.id },
            tool: { S: record.tool },
            start: { S: record.start },
            outcome: { S: String(record.outcome) },
            record: { S: JSON.stringify(record) },
          },
          ConditionExpression: 'attribute_not_exists(chain)',
        }),
      )
      .catch((e) => {
        throw this.fail('PutItem', e);
      });
    this.checkedAt = Date.now();
  }

  /** Every record, chain by chain in sequence order (consistent reads), for `audit verify --sink`. */
  async *readBack(): AsyncIterable<AuditRecord> {
    const sdk = await import('@aws-sdk/client-dynamodb');
    const ddb = await this.ddb();
    const names = { '#c': 'chain' };
    const chains = new Set<string>();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await ddb
        .send(
          new sdk.ScanCommand({
            TableName: this.table,
            ProjectionExpression: '#c',
            ExpressionAttributeNames: names,
            ExclusiveStartKey: start,
            ConsistentRead: true,
          }),
        )
        .catch((e) => {
          throw this.fail('Scan', e);
        });
      for (const item of page.Items ?? []) if (item.chain?.S) chains.add(item.chain.S);
      start = page.LastEvaluatedKey;
    } while (start);
    for (const chain of [...chains].sort()) {
      let next: Record<string, AttributeValue> | undefined;
      do {
        const page = await ddb
          .send(
            new sdk.QueryCommand({
              TableName: this.table,
              KeyConditionExpression: '#c = :c',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: { ':c': { S: chain } },
              ExclusiveStartKey: next,
              ConsistentRead: true,
            }),
          )
          .catch((e) => {
            throw this.fail('Query', e);
          });
        for (const item of page.Items ?? []) yield JSON.parse(item.record?.S ?? 'null') as AuditRecord;
        next = page.LastEvaluatedKey;
      } while (next);
    }
  }

  async close(): Promise<void> {
    (await this.client)?.destroy();
  }
}

/** For the app's config (`export: dynamoAuditSink`): options -> an AuditSink. */
export function dynamoAuditSink(options: DynamoAuditSinkOptions = {}): AuditSink {
  return new DynamoAuditSink(options);
}
