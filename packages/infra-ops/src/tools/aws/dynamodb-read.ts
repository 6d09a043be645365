/** dynamodb_query and dynamodb_scan: items as plain JSON, paged by DynamoDB's LastEvaluatedKey in the cursor. */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { fromItem, toAttr } from '../../aws/attributes.js';
import { allowed, awsError, type Ctx, dynamodbOf, tool } from '../../aws/client.js';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const common = {
  table: z.string().min(1).describe('Table'),
  index: z.string().optional().describe('Secondary index'),
  limit: z.number().int().min(1).max(1000).default(50).describe('Items read per page (before any filter)'),
};
const output = listOutput({
  items: z.array(z.record(z.string(), z.unknown())),
  scanned: z.number().optional(),
});

async function read(
  ctx: Ctx,
  args: { table: string; index?: string; limit: number; cursor?: string; maxBytes?: number } & Record<
    string,
    unknown
  >,
  tool: string,
  command: (start: Record<string, AttributeValue> | undefined) => Promise<{
    Items?: Record<string, AttributeValue>[];
    LastEvaluatedKey?: Record<string, AttributeValue>;
    ScannedCount?: number;
  }>,
) {
  const list = pager(tool, ctx, args);
  const start = list.token ? (JSON.parse(list.token) as Record<string, AttributeValue>) : undefined;
  const r = await command(start).catch((e) => {
    throw awsError(e, `${tool} ${args.table}`);
  });
  const items = (r.Items ?? []).map(fromItem);
  return list.page({
    items,
    next: r.LastEvaluatedKey ? JSON.stringify(r.LastEvaluatedKey) : undefined,
    line: (i) => JSON.stringify(i),
    what: 'items',
    narrow: 'limit or a key condition',
    data: (page) => ({
      items: page.items,
      ...(r.ScannedCount !== undefined ? { scanned: r.ScannedCount } : {}),
    }),
    text: (page, range) => [
      `${args.table}: ${items.length} items read${range}`,
      ...page.items.map((i) => JSON.stringify(i)),
    ],
  });
}

const values = (v: Record<string, string | number | boolean | null> | undefined) =>
  v && Object.keys(v).length
    ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toAttr(x)]))
    : undefined;

export const dynamodbQueryTool = tool({
  name: 'dynamodb_query',
  title: 'DynamoDB query',
  description:
    'Query a table or index by key condition, e.g. keyCondition "pk = :pk", values {":pk": "user#1"}.',
  input: listInput({
    ...common,
    keyCondition: z.string().min(1).max(1024).describe('KeyConditionExpression'),
    filter: z.string().max(1024).optional().describe('FilterExpression'),
    values: z.record(z.string(), scalar).default({}).describe('ExpressionAttributeValues as plain JSON'),
    names: z.record(z.string(), z.string()).default({}).describe('ExpressionAttributeNames'),
    descending: z.boolean().default(false),
  }),
  output,
  effect: 'read',
  run: async (args, ctx) => {
    const table = allowed(ctx, 'table', args.table);
    const { QueryCommand } = await import('@aws-sdk/client-dynamodb');
    const ddb = await dynamodbOf(ctx);
    return read(ctx, args, 'aws_dynamodb_query', (start) =>
      ddb.send(
        new QueryCommand({
          TableName: table,
          IndexName: args.index,
          KeyConditionExpression: args.keyCondition,
          FilterExpression: args.filter,
          ExpressionAttributeValues: values(args.values),
          ExpressionAttributeNames: Object.keys(args.names).length ? args.names : undefined,
          ScanIndexForward: !args.descending,
          Limit: args.limit,
          ExclusiveStartKey: start,
        }),
        { abortSignal: ctx.signal },
      ),
    );
  },
});

export const dynamodbScanTool = tool({
  name: 'dynamodb_scan',
  title: 'DynamoDB scan',
  description:
    'Read a table or index in key order, limit items per page; prefer dynamodb_query when the key is known.',
  input: listInput({
    ...common,
    filter: z.string().max(1024).optional().describe('FilterExpression'),
    values: z.record(z.string(), scalar).default({}).describe('ExpressionAttributeValues as plain JSON'),
  }),
  output,
  effect: 'read',
  run: async (args, ctx) => {
    const table = allowed(ctx, 'table', args.table);
    const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
    const ddb = await dynamodbOf(ctx);
    return read(ctx, args, 'aws_dynamodb_scan', (start) =>
      ddb.send(
        new ScanCommand({
          TableName: table,
          IndexName: args.index,
          FilterExpression: args.filter,
          ExpressionAttributeValues: values(args.values),
          Limit: args.limit,
          ExclusiveStartKey: start,
        }),
        { abortSignal: ctx.signal },
      ),
    );
  },
});
