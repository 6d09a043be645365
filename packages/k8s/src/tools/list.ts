import { listInput, listOutput, pager, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { age, apiVersionArg, kindArg, namespaceOf, pick, tool } from '../common.js';
import { resolveKind, resourcePath } from '../discovery.js';
import { maskSecrets } from '../manifest.js';

const TABLE = 'application/json;as=Table;g=meta.k8s.io;v=v1,application/json';

export const listTool = tool({
  name: 'list',
  title: 'List objects',
  description:
    'List objects of any kind as a compact text table (default), or names / chosen fields as structured rows; label/field selectors; pages by cursor.',
  input: listInput({
    kind: kindArg,
    apiVersion: apiVersionArg,
    namespace: z.string().optional().describe("Namespace (default: the context's)"),
    allNamespaces: z.boolean().optional().describe('Every namespace'),
    labelSelector: z.string().optional().describe('e.g. app=web,tier!=db'),
    fieldSelector: z.string().optional().describe('e.g. status.phase=Running'),
    output: z.enum(['table', 'names', 'fields']).default('table').describe('table, names, or fields'),
    fields: z.array(z.string()).optional().describe('Dotted paths for output=fields, e.g. ["status.phase"]'),
    limit: z.number().int().min(1).max(5000).default(500).describe('Objects fetched per API page'),
  }),
  output: listOutput({
    kind: z.string(),
    columns: z.array(z.string()),
    rows: z
      .array(z.array(z.unknown()))
      .optional()
      .describe('names and fields output; the table output has its rows in the text only (one copy)'),
    shown: z.number().describe('Rows on this page'),
  }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    const r = await resolveKind(ctx.client, args.kind, args.apiVersion, ctx.signal);
    let ns: string | undefined;
    if (args.allNamespaces && r.namespaced) {
      if (ctx.config.allow?.namespace)
        throw new ToolError(
          'denied_by_policy',
          `k8s instance "${ctx.instance}" restricts namespaces: list them one by one`,
          'pass namespace instead of allNamespaces',
        );
    } else if (r.namespaced) ns = namespaceOf(ctx, args.namespace);
    const list = pager('list', ctx, args);
    const table = args.output === 'table';
    const res = await ctx.client.get<Obj>(resourcePath(r, ns), {
      query: {
        labelSelector: args.labelSelector,
        fieldSelector: args.fieldSelector,
        limit: args.limit,
        continue: list.token,
      },
      accept: table ? TABLE : undefined,
      signal: ctx.signal,
    });
    const showNs = r.namespaced && !ns;
    let columns: string[];
    let rows: unknown[][];
    if (table && res.kind === 'Table') {
      const defs = (res.columnDefinitions ?? []) as Obj[];
      const keep = defs.map((d, i) => [d, i] as const).filter(([d]) => !d.priority);
      columns = [...(showNs ? ['NAMESPACE'] : []), ...keep.map(([d]) => String(d.name).toUpperCase())];
      rows = (res.rows ?? []).map((row: Obj) => [
        ...(showNs ? [row.object?.metadata?.namespace ?? ''] : []),
        ...keep.map(([, i]) => row.cells[i]),
      ]);
    } else {
      const items: Obj[] = res.kind === 'Table' ? res.rows.map((x: Obj) => x.object) : (res.items ?? []);
      const fields =
        args.output === 'fields' ? (args.fields ?? []) : table ? ['metadata.creationTimestamp'] : [];
      columns = [
        ...(showNs ? ['NAMESPACE'] : []),
        'NAME',
        ...fields.map((f) => (f === 'metadata.creationTimestamp' && table ? 'AGE' : f)),
      ];
      rows = items.map((o) => [
        ...(showNs ? [o.metadata?.namespace] : []),
        o.metadata?.name,
        ...fields.map((f) =>
          f === 'metadata.creationTimestamp' && table
            ? age(o.metadata?.creationTimestamp)
            : pick(maskSecrets({ ...o, kind: r.kind }), f),
        ),
      ]);
    }
    const line = (row: unknown[]) =>
      row.map((c) => (typeof c === 'object' ? JSON.stringify(c) : String(c ?? ''))).join(' ');
    return list.page({
      items: rows,
      line,
      what: r.plural,
      narrow: 'namespace, labelSelector or fieldSelector',
      next: res.metadata?.continue || undefined,
      remaining: res.metadata?.remainingItemCount,
      // the table is read as text: its rows are not repeated in the structured answer
      data: (page) => ({
        kind: r.kind,
        columns,
        shown: page.items.length,
        ...(table ? {} : { rows: page.items }),
      }),
      text: (page, range) => [
        `${r.plural}${ns ? ` in ${ns}` : ''}${range}:`,
        columns.join(' '),
        ...page.items.map(line),
      ],
    });
  },
});
