import { listInput, listOutput, matchesAny, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { awsError, dynamodbOf, tool } from '../../aws/client.js';

export const dynamodbTablesTool = tool({
  name: 'dynamodb_tables',
  title: 'DynamoDB tables',
  description: 'DynamoDB tables this server may read (the table allow-list applied); paged by cursor.',
  input: listInput({
    limit: z.number().int().min(1).max(100).default(100).describe('Tables asked per page'),
  }),
  output: listOutput({ tables: z.array(z.string()) }),
  effect: 'read',
  run: async (args, ctx) => {
    const list = pager('aws_dynamodb_tables', ctx, args);
    const { ListTablesCommand } = await import('@aws-sdk/client-dynamodb');
    const ddb = await dynamodbOf(ctx);
    const r = await ddb
      .send(new ListTablesCommand({ Limit: args.limit, ExclusiveStartTableName: list.token }), {
        abortSignal: ctx.signal,
      })
      .catch((e) => {
        throw awsError(e, 'ListTables');
      });
    const globs = ctx.config.allow?.table;
    const tables = (r.TableNames ?? []).filter((t) => globs === undefined || matchesAny(t, globs));
    return list.page({
      items: tables,
      next: r.LastEvaluatedTableName,
      line: (t) => t,
      what: 'tables',
      narrow: 'the table allow-list',
      data: (page) => ({ tables: page.items }),
    });
  },
});
