/**
 * dynamodb_put_item (write) and dynamodb_delete_item (destructive). The dry run reads the table's key
 * schema and the current item (consistent read); the preview is create, or the attributes that
 * change. The approval is bound to the current item too, so an item changed since the preview makes
 * the approved call `stale_plan`. A create is conditional on the key being absent, a delete on it
 * being present, so DynamoDB itself refuses the race between check and write.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { canonicalJson, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { fromItem, type Json, toItem } from '../../aws/attributes.js';
import { awsError, type Ctx, dynamodbOf, tool, writable } from '../../aws/client.js';

const json: z.ZodType<Json> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

async function keyNames(ctx: Ctx, table: string): Promise<string[]> {
  const { DescribeTableCommand } = await import('@aws-sdk/client-dynamodb');
  const ddb = await dynamodbOf(ctx);
  const d = await ddb
    .send(new DescribeTableCommand({ TableName: table }), { abortSignal: ctx.signal })
    .catch((e) => {
      throw awsError(e, `DescribeTable ${table}`);
    });
  return (d.Table?.KeySchema ?? []).map((k) => k.AttributeName ?? '');
}

function keyOf(item: Record<string, Json>, names: string[], table: string): Record<string, Json> {
  const missing = names.filter((n) => item[n] === undefined || item[n] === null);
  if (missing.length > 0)
    throw new ToolError(
      'invalid_arguments',
      `the item has no ${missing.join(', ')}: table ${table} is keyed by ${names.join(' + ')}`,
      `give every key attribute (${names.join(', ')})`,
    );
  return Object.fromEntries(names.map((n) => [n, item[n] as Json]));
}

async function currentItem(ctx: Ctx, table: string, key: Record<string, Json>) {
  const { GetItemCommand } = await import('@aws-sdk/client-dynamodb');
  const ddb = await dynamodbOf(ctx);
  const r = await ddb
    .send(new GetItemCommand({ TableName: table, Key: toItem(key), ConsistentRead: true }), {
      abortSignal: ctx.signal,
    })
    .catch((e) => {
      throw awsError(e, `GetItem ${table}`);
    });
  return r.Item ? fromItem(r.Item) : undefined;
}

const change = z.object({
  attribute: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});

function changes(before: Record<string, unknown>, after: Record<string, unknown>) {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .sort()
    .filter((k) => canonicalJson(before[k]) !== canonicalJson(after[k]))
    .map((attribute) => ({ attribute, before: before[attribute], after: after[attribute] }));
}

const fmt = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

export const dynamodbPutItemTool = tool({
  name: 'dynamodb_put_item',
  title: 'Put a DynamoDB item',
  description:
    'Create or replace one item (plain JSON). Dry run first: shows create, or each attribute that changes; the approved call writes exactly that item, refused if the item changed since.',
  input: z.object({
    table: z.string().min(1).describe('Table (in allow and writes.table)'),
    item: z.record(z.string(), json).describe('The whole item, key attributes included'),
  }),
  output: z.object({
    table: z.string(),
    key: z.record(z.string(), z.unknown()),
    action: z.enum(['create', 'replace']),
  }),
  preview: z.object({
    action: z.enum(['create', 'replace']),
    table: z.string(),
    key: z.record(z.string(), z.unknown()),
    changes: z.array(change),
  }),
  effect: 'write',
  plan: async ({ table: t, item }, ctx) => {
    const table = writable(ctx, 'table', t);
    const names = await keyNames(ctx, table);
    const key = keyOf(item, names, table);
    const before = await currentItem(ctx, table, key);
    const action = before ? ('replace' as const) : ('create' as const);
    const diff = changes(before ?? {}, item);
    const summary = `${action} item ${JSON.stringify(key)} in ${table}: ${diff.length} attributes change`;
    return {
      change: { table, key, item, before: before ?? null },
      preview: { action, table, key, changes: diff },
      summary,
      text: [summary, ...diff.map((c) => `  ${c.attribute}: ${fmt(c.before)} -> ${fmt(c.after)}`)].join('\n'),
      items: diff.map((c) => ({ text: `${c.attribute}: ${fmt(c.before)} -> ${fmt(c.after)}`, data: c })),
    };
  },
  run: async ({ item }, ctx, plan) => {
    const { table, key, before } = (
      plan as unknown as { change: { table: string; key: Record<string, Json>; before: unknown } }
    ).change;
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    const ddb = await dynamodbOf(ctx);
    const first = Object.keys(key)[0] as string;
    await ddb
      .send(
        new PutItemCommand({
          TableName: table,
          Item: toItem(item) as Record<string, AttributeValue>,
          ...(before === null
            ? { ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': first } }
            : {}),
        }),
        { abortSignal: ctx.signal },
      )
      .catch((e) => {
        if ((e as { name?: string }).name === 'ConditionalCheckFailedException')
          throw new ToolError(
            'stale_plan',
            `an item with key ${JSON.stringify(key)} appeared in ${table} after the preview: nothing was written`,
            'call dynamodb_put_item again without approval to preview the current item',
          );
        throw awsError(e, `PutItem ${table}`);
      });
    const action = before === null ? ('create' as const) : ('replace' as const);
    return { data: { table, key, action }, text: `${action}d item ${JSON.stringify(key)} in ${table}` };
  },
});

export const dynamodbDeleteItemTool = tool({
  name: 'dynamodb_delete_item',
  title: 'Delete a DynamoDB item',
  description:
    'Delete one item by its key. Dry run first: shows the item; the approved call deletes it only if it is still that item.',
  input: z.object({
    table: z.string().min(1).describe('Table (in allow and writes.table)'),
    key: z.record(z.string(), json).describe('The key attributes, e.g. {"pk": "user#1", "sk": 3}'),
  }),
  output: z.object({ table: z.string(), key: z.record(z.string(), z.unknown()) }),
  preview: z.object({
    table: z.string(),
    key: z.record(z.string(), z.unknown()),
    item: z.record(z.string(), z.unknown()),
  }),
  effect: 'destructive',
  plan: async ({ table: t, key: given }, ctx) => {
    const table = writable(ctx, 'table', t);
    const names = await keyNames(ctx, table);
    const key = keyOf(given, names, table);
    const extra = Object.keys(given).filter((k) => !names.includes(k));
    if (extra.length > 0)
      throw new ToolError(
        'invalid_arguments',
        `${extra.join(', ')} ${extra.length > 1 ? 'are' : 'is'} not part of the key of ${table} (${names.join(' + ')})`,
        'give only the key attributes',
      );
    const item = await currentItem(ctx, table, key);
    if (!item)
      throw new ToolError(
        'not_found',
        `no item with key ${JSON.stringify(key)} in ${table}`,
        'check the key with aws_dynamodb_query',
      );
    const summary = `delete item ${JSON.stringify(key)} from ${table} (${Object.keys(item).length} attributes)`;
    return {
      change: { table, key, item },
      preview: { table, key, item },
      summary,
      text: `${summary}\n${JSON.stringify(item)}`,
    };
  },
  run: async (_args, ctx, plan) => {
    const { table, key } = (plan as unknown as { change: { table: string; key: Record<string, Json> } })
      .change;
    const { DeleteItemCommand } = await import('@aws-sdk/client-dynamodb');
    const ddb = await dynamodbOf(ctx);
    await ddb
      .send(
        new DeleteItemCommand({
          TableName: table,
          Key: toItem(key),
          ConditionExpression: 'attribute_exists(#k)',
          ExpressionAttributeNames: { '#k': Object.keys(key)[0] as string },
        }),
        { abortSignal: ctx.signal },
      )
      .catch((e) => {
        if ((e as { name?: string }).name === 'ConditionalCheckFailedException')
          throw new ToolError(
            'stale_plan',
            `the item ${JSON.stringify(key)} was deleted from ${table} after the preview`,
            'nothing to do; list the table to check',
          );
        throw awsError(e, `DeleteItem ${table}`);
      });
    return { data: { table, key }, text: `deleted item ${JSON.stringify(key)} from ${table}` };
  },
});
