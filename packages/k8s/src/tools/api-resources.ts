import { listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { tool } from '../common.js';
import { discover } from '../discovery.js';

export const apiResourcesTool = tool({
  name: 'api_resources',
  title: 'API resources',
  description: 'Kinds the cluster serves (CRDs included): kind, plural, short names, apiVersion, namespaced.',
  input: listInput({ group: z.string().optional().describe('Only this API group ("" for core)') }),
  output: listOutput({ resources: z.array(z.array(z.unknown())) }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    const all = (await discover(ctx.client, ctx.signal))
      .filter((r) => args.group === undefined || r.group === args.group)
      .map((r) => [r.kind, r.plural, r.shortNames.join(','), r.apiVersion, r.namespaced]);
    const line = (r: unknown[]) => r.join(' ');
    return pager('api_resources', ctx, args).page({
      items: all,
      line,
      what: 'resources',
      narrow: 'group',
      data: (page) => ({ resources: page.items }),
      text: (page, range) => [
        `${all.length} resources${range}:`,
        'KIND PLURAL SHORT APIVERSION NAMESPACED',
        ...page.items.map(line),
      ],
    });
  },
});
