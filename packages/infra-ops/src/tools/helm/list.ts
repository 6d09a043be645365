import { listInput, listOutput, pager, table } from '@infra-mcp/core';
import { z } from 'zod';
import { tool } from '../../helm/cli.js';
import {
  helmRelease,
  isoTime,
  namespaceAllowed,
  namespaceArg,
  namespaceOf,
  parseJsonOut,
} from '../../helm/release.js';

export const releaseRow = z.object({
  name: z.string(),
  namespace: z.string(),
  revision: z.number(),
  status: z.string(),
  chart: z.string(),
  appVersion: z.string(),
  updated: z.string().describe('ISO time of the last deploy'),
});
export type ReleaseRow = z.infer<typeof releaseRow>;

const MAX = 10_000;

export const listTool = tool({
  name: 'list',
  title: 'List Helm releases',
  description:
    'Releases in a namespace (or all allowed ones): name, revision, status, chart, app version, updated.',
  input: listInput({
    namespace: namespaceArg,
    allNamespaces: z
      .boolean()
      .default(false)
      .describe('Every namespace the allow-list permits (helm list -A)'),
    filter: z.string().max(200).optional().describe('Only names matching this regular expression'),
  }),
  output: listOutput({ total: z.number(), releases: z.array(releaseRow) }),
  effect: 'read',
  run: async (args, ctx) => {
    const list = pager('helm_list', ctx, args);
    const namespace = args.allNamespaces ? undefined : namespaceOf(ctx, args.namespace);
    const r = await helmRelease(
      ctx,
      [
        'list',
        '-o',
        'json',
        '--max',
        String(MAX),
        ...(args.allNamespaces ? ['-A'] : []),
        ...(args.filter ? [`--filter=${args.filter}`] : []),
      ],
      { namespace },
    );
    const rows: ReleaseRow[] = parseJsonOut<Record<string, unknown>[]>(r.stdout, 'helm list')
      .map((x) => ({
        name: String(x.name),
        namespace: String(x.namespace),
        revision: Number(x.revision),
        status: String(x.status ?? ''),
        chart: String(x.chart ?? ''),
        appVersion: String(x.app_version ?? ''),
        updated: isoTime(String(x.updated ?? '')),
      }))
      .filter((x) => namespace !== undefined || namespaceAllowed(ctx, x.namespace));
    const where = namespace ? `namespace ${namespace}` : 'all allowed namespaces';
    const head = ['NAME', 'NAMESPACE', 'REV', 'STATUS', 'CHART', 'APP', 'UPDATED'];
    const cells = (x: ReleaseRow) => [
      x.name,
      x.namespace,
      x.revision,
      x.status,
      x.chart,
      x.appVersion,
      x.updated,
    ];
    return list.page({
      items: rows,
      line: (x) => cells(x).join('  '),
      what: 'releases',
      narrow: 'filter, or namespace',
      data: (page) => ({ total: rows.length, releases: page.items }),
      text: (page, range) => [
        `${rows.length} release${rows.length === 1 ? '' : 's'} in ${where}${range}`,
        ...(page.items.length ? [table(head, page.items.map(cells))] : []),
      ],
    });
  },
});
