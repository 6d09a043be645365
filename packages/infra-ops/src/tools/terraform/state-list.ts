import { listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { dirArg, terraform, tool, workdir } from '../../terraform/cli.js';

export const stateListTool = tool({
  name: 'state_list',
  title: 'Terraform state list',
  description: 'Resource addresses in the state, paged; filter by substring.',
  input: listInput({
    dir: dirArg,
    match: z.string().optional().describe('Only addresses containing this text'),
  }),
  output: listOutput({ total: z.number(), addresses: z.array(z.string()) }),
  effect: 'read',
  run: async (args, ctx) => {
    const list = pager('terraform_state_list', ctx, args);
    const cwd = workdir(ctx, args.dir);
    const r = await terraform(ctx, cwd, ['state', 'list', '-no-color'], {
      maxOutputBytes: ctx.config.maxPlanJsonBytes,
    });
    const all = r.stdout
      .split('\n')
      .filter(Boolean)
      .filter((a) => !args.match || a.includes(args.match));
    return list.page({
      items: all,
      line: (a) => a,
      what: 'addresses',
      narrow: 'match',
      data: (page) => ({ total: all.length, addresses: page.items }),
      text: (page, range) => [`${all.length} resources in state${range}`, ...page.items],
    });
  },
});
