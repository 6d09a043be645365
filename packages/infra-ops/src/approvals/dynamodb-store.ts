/**
 * Used approval tokens in a DynamoDB table, so that a token executes its change once across every
 * replica sharing the table (and across restarts): a conditional put on the token id is the atomic
 * single use. Name it in the app's config:
 *
 *   approvals:
 *     secret: env:INFRA_MCP_APPROVAL_SECRET
 *     store: { dynamodb: { table: mcp_approvals, region: eu-west-1 } }
 *
 * Items: `id` (hash key) and `expiresAt` (epoch seconds; enable the table's TTL on it to let
 * DynamoDB drop spent tokens). While the table cannot be reached, approved calls fail and nothing runs.
 */
import type { ApprovalStore } from '@infra-mcp/core';
import { DynamoTable, type DynamoTableOptions } from '../audit/dynamodb-table.js';

export type DynamoApprovalStoreOptions = DynamoTableOptions;

export class DynamoApprovalStore implements ApprovalStore {
  readonly scope: string;
  private readonly t: DynamoTable;

  constructor(options: DynamoApprovalStoreOptions = {}) {
    this.t = new DynamoTable(options, 'mcp_approvals', 'DynamoDB approval table', { hash: ['id', 'S'] });
    // replicas sharing the table accept each other's tokens; another table is another scope
    this.scope = `dynamodb:${this.t.table}`;
  }

  async consume(id: string, expiresAt: number): Promise<boolean> {
    await this.t.ensure();
    const sdk = await import('@aws-sdk/client-dynamodb');
    const ddb = await this.t.ddb();
    try {
      await ddb.send(
        new sdk.PutItemCommand({
          TableName: this.t.table,
          Item: { id: { S: id }, expiresAt: { N: String(Math.ceil(expiresAt / 1000)) } },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
      return true;
    } catch (e) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw this.t.fail('PutItem', e);
    }
  }

  async used(id: string): Promise<boolean> {
    await this.t.ensure();
    const sdk = await import('@aws-sdk/client-dynamodb');
    const ddb = await this.t.ddb();
    const r = await ddb
      .send(new sdk.GetItemCommand({ TableName: this.t.table, Key: { id: { S: id } }, ConsistentRead: true }))
      .catch((e) => {
        throw this.t.fail('GetItem', e);
      });
    return r.Item !== undefined;
  }

  close(): Promise<void> {
    return this.t.close();
  }
}

/** For code and the app's config: options -> an ApprovalStore shared through a DynamoDB table. */
export function dynamoApprovalStore(options: DynamoApprovalStoreOptions = {}): ApprovalStore {
  return new DynamoApprovalStore(options);
}
