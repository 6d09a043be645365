import { listInput, listOutput, pager } from '@infra-mcp/core';
import { z } from 'zod';
import { age, namespaceOf, tool } from '../common.js';
import { type EventRow, fetchEvents } from '../events.js';

export const eventsTool = tool({
  name: 'events',
  title: 'Events',
  description: 'Events of a namespace or one object: warnings first, newest first.',
  input: listInput({
    namespace: z.string().optional().describe("Namespace (default: the context's)"),
    kind: z.string().optional().describe('With name: only events about this object (its Kind, e.g. Pod)'),
    name: z.string().optional().describe('Object name'),
  }),
  output: listOutput({ events: z.array(z.record(z.string(), z.unknown())) }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    const ns = namespaceOf(ctx, args.namespace);
    const about = args.kind && args.name ? { kind: args.kind, name: args.name } : undefined;
    const rows = await fetchEvents(ctx.client, ns, about, ctx.signal);
    const line = (e: EventRow) =>
      `${e.type} ${e.reason} ${e.object} ${age(e.last)} x${e.count}: ${e.message}`;
    return pager('events', ctx, args).page({
      items: rows,
      line,
      what: 'events',
      narrow: 'kind and name',
      data: (page) => ({ events: page.items as never }),
      text: (page, range) => [`${rows.length} events in ${ns}${range}:`, ...page.items.map(line)],
    });
  },
});
