/**
 * One DynamoDB table of infra-mcp's own (the operations log, used approval tokens): the client
 * (the SDK loaded at first use), the table created on demand with its key schema, and errors that
 * name the table and where it is.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export interface DynamoTableOptions {
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

export interface KeySchema {
  hash: [name: string, type: 'S' | 'N'];
  range?: [name: string, type: 'S' | 'N'];
}

export class DynamoTable {
  readonly table: string;
  private client?: Promise<DynamoDBClient>;
  private ready?: Promise<void>;

  constructor(
    private readonly options: DynamoTableOptions,
    defaultTable: string,
    private readonly what: string,
    private readonly key: KeySchema,
  ) {
    this.table = options.table ?? defaultTable;
  }

  where(): string {
    return `${this.what} ${this.table}${this.options.endpoint ? ` at ${this.options.endpoint}` : ` in ${this.options.region ?? 'the default region'}`}`;
  }

  fail(operation: string, e: unknown): Error {
    const err = e as { name?: string; message?: string };
    return new Error(
      `${this.where()}: ${operation} failed: ${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message ?? String(e)}`,
    );
  }

  ddb(): Promise<DynamoDBClient> {
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

  /** The table exists (created when missing and allowed) and is ACTIVE; retried after a failure. */
  ensure(): Promise<void> {
    this.ready ??= this.create().catch((e) => {
      this.ready = undefined; // try again at the next use
      throw e;
    });
    return this.ready;
  }

  private async create(): Promise<void> {
    const sdk = await import('@aws-sdk/client-dynamodb');
    const ddb = await this.ddb();
    try {
      const d = await ddb.send(new sdk.DescribeTableCommand({ TableName: this.table }));
      if (d.Table?.TableStatus === 'ACTIVE') return;
    } catch (e) {
      if ((e as { name?: string }).name !== 'ResourceNotFoundException') throw this.fail('DescribeTable', e);
      if (this.options.create === false)
        throw new Error(`${this.where()} does not exist (create it, or set options.create: true)`);
      const keys = [this.key.hash, ...(this.key.range ? [this.key.range] : [])];
      try {
        await ddb.send(
          new sdk.CreateTableCommand({
            TableName: this.table,
            AttributeDefinitions: keys.map(([AttributeName, AttributeType]) => ({
              AttributeName,
              AttributeType,
            })),
            KeySchema: keys.map(([AttributeName], i) => ({
              AttributeName,
              KeyType: i === 0 ? 'HASH' : 'RANGE',
            })),
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
  }

  async close(): Promise<void> {
    (await this.client)?.destroy();
  }
}
