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

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AuditRecord, AuditSink } from '@infra-mcp/core';
import { DynamoTable, type DynamoTableOptions } from './dynamodb-table.js';

export type DynamoAuditSinkOptions = DynamoTableOptions;

const CHECK_TTL_MS = 5000;

export class DynamoAuditSink implements AuditSink {
  readonly name: string;
  readonly table: string;
  private readonly t: DynamoTable;
  private checkedAt = 0;

  constructor(options: DynamoAuditSinkOptions = {}) {
    this.t = new DynamoTable(options, 'mcp_ops_log', 'DynamoDB audit table', {
      hash: ['chain', 'S'],
      range: ['seq', 'N'],
    });
    this.table = this.t.table;
    this.name = `dynamodb:${this.table}`;
  }

  async check(): Promise<void> {
    await this.t.ensure();
    if (Date.now() - this.checkedAt < CHECK_TTL_MS) return;
    const sdk = await import('@aws-sdk/client-dynamodb');
    const ddb = await this.t.ddb();
    await ddb.send(new sdk.DescribeTableCommand({ TableName: this.table })).catch((e) => {
      throw this.t.fail('DescribeTable', e);
    });
    this.checkedAt = Date.now();
  }

  async append(record: AuditRecord): Promise<void> {
    await this.t.ensure();
    const sdk = await import('@aws-sdk/client-dynamodb');
    const ddb = await this.t.ddb();
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
        throw this.t.fail('PutItem', e);
      });
    this.checkedAt = Date.now();
  }

  /** Every record, chain by chain in sequence order (consistent reads), for `audit verify --sink`. */
  async *readBack(): AsyncIterable<AuditRecord> {
    const sdk = await import('@aws-sdk/client-dynamodb');
    const ddb = await this.t.ddb();
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
          throw this.t.fail('Scan', e);
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
            throw this.t.fail('Query', e);
          });
        for (const item of page.Items ?? []) yield JSON.parse(item.record?.S ?? 'null') as AuditRecord;
        next = page.LastEvaluatedKey;
      } while (next);
    }
  }

  async close(): Promise<void> {
    await this.t.close();
  }
}

/** For the app's config (`export: dynamoAuditSink`): options -> an AuditSink. */
export function dynamoAuditSink(options: DynamoAuditSinkOptions = {}): AuditSink {
  return new DynamoAuditSink(options);
}
