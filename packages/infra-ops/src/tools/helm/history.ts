import { listInput, listOutput, pager, table } from '@infra-mcp/core';
import { z } from 'zod';
import { tool } from '../../helm/cli.js';
import { history, namespaceArg, namespaceOf, releaseArg } from '../../helm/release.js';

export const historyTool = tool({
  name: 'history',
  title: 'Helm release history',
  description: 'Revisions of a release, newest first: status, chart, app version, description, updated.',
  input: listInput({
    release: releaseArg,
    namespace: namespaceArg,
    max: z.number().int().min(1).max(256).default(64).describe('Latest revisions to read'),
  }),
  output: listOutput({
    release: z.string(),
    namespace: z.string(),
    total: z.number(),
    revisions: z.array(
      z.object({
        revision: z.number(),
        updated: z.string(),
        status: z.string(),
        chart: z.string(),
        appVersion: z.string(),
        description: z.string(),
      }),
    ),
  }),
  effect: 'read',
  run: async (args, ctx) => {
    const list = pager('helm_history', ctx, args);
    const namespace = namespaceOf(ctx, args.namespace);
    const rows = (await history(ctx, args.release, namespace, args.max)).reverse();
    const cells = (h: (typeof rows)[number]) => [
      h.revision,
      h.status,
      h.chart,
      h.appVersion,
      h.updated,
      h.description,
    ];
    return list.page({
      items: rows,
      line: (h) => cells(h).join('  '),
      what: 'revisions',
      narrow: 'max',
      data: (page) => ({ release: args.release, namespace, total: rows.length, revisions: page.items }),
      text: (page, range) => [
        `${args.release} in ${namespace}: ${rows.length} revisions${range}`,
        ...(page.items.length
          ? [table(['REV', 'STATUS', 'CHART', 'APP', 'UPDATED', 'DESCRIPTION'], page.items.map(cells))]
          : []),
      ],
    });
  },
});
