import { fitTail, maxBytesArg, pageNotice, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { namespaceArg, namespaceOf, tool } from '../common.js';
import { resolveKind, resourcePath } from '../discovery.js';
import { ownedPods } from '../owned.js';

function seconds(since: string | undefined): number | undefined {
  if (!since) return undefined;
  const m = since.match(/^(\d+)([smhd]?)$/);
  if (!m)
    throw new ToolError('invalid_arguments', `since "${since}" is not a duration`, 'write e.g. 30s, 10m, 2h');
  return (
    Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[m[2] as string]!
  );
}

export const logsTool = tool({
  name: 'logs',
  title: 'Logs',
  description: 'Log tail of a pod, or of every pod of a workload (lines prefixed by pod); newest lines kept.',
  input: z.object({
    maxBytes: maxBytesArg,
    name: z.string().min(1).describe('Pod name, or workload name with kind'),
    kind: z
      .string()
      .optional()
      .describe('Workload kind (Deployment, StatefulSet, DaemonSet, Job): logs of all its pods'),
    namespace: namespaceArg,
    container: z.string().optional().describe('Container (default: the only one)'),
    tail: z.number().int().min(1).max(10_000).default(100).describe('Lines per pod from the end'),
    since: z.string().optional().describe('Only newer lines: 30s, 10m, 2h'),
    previous: z.boolean().optional().describe('The previous (crashed) container instance'),
    grep: z.string().optional().describe('Only lines matching this regex'),
  }),
  output: z.object({ lines: z.array(z.string()), pods: z.array(z.string()), omitted: z.number() }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    const ns = namespaceOf(ctx, args.namespace);
    let pods = [args.name];
    if (args.kind && !/^(pods?|po)$/i.test(args.kind)) {
      const r = await resolveKind(ctx.client, args.kind, undefined, ctx.signal);
      const owner = await ctx.client.get<Obj>(resourcePath(r, ns, args.name), { signal: ctx.signal });
      pods = (await ownedPods(ctx.client, owner, ctx.signal)).map((p) => p.metadata.name);
      if (pods.length === 0)
        throw new ToolError(
          'not_found',
          `${r.kind} ${args.name} owns no pods`,
          'k8s_describe shows its state and events',
        );
    }
    let re: RegExp | undefined;
    try {
      re = args.grep ? new RegExp(args.grep) : undefined;
    } catch (err) {
      throw new ToolError(
        'invalid_arguments',
        `grep is not a valid regex: ${(err as Error).message}`,
        'escape special characters',
      );
    }
    const lines: string[] = [];
    let partial: string | undefined;
    for (const pod of pods) {
      if (Date.now() >= ctx.deadline) {
        partial = `the deadline passed before the logs of ${pods.length - pods.indexOf(pod)} of ${pods.length} pods were read`;
        break;
      }
      // each request ends at the soft deadline: what was read by then is answered, marked partial
      const until = AbortSignal.any([
        ctx.signal,
        AbortSignal.timeout(Math.max(1, ctx.deadline - Date.now())),
      ]);
      let text: string;
      try {
        text = await ctx.client.request(
          'GET',
          `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod)}/log`,
          {
            query: {
              container: args.container,
              tailLines: args.tail,
              sinceSeconds: seconds(args.since),
              previous: args.previous,
            },
            text: true,
            signal: until,
          },
        );
      } catch (err) {
        if (ctx.signal.aborted || !until.aborted) throw err;
        partial = `the deadline passed before the logs of ${pods.length - pods.indexOf(pod)} of ${pods.length} pods were read`;
        break;
      }
      for (const l of text.split('\n'))
        if (l && (!re || re.test(l))) lines.push(pods.length > 1 ? `[${pod}] ${l}` : l);
    }
    const fit = fitTail({
      items: lines,
      budget: ctx.budget,
      line: (l) => l,
      build: (page) => ({
        data: { lines: page.items, pods, omitted: page.omitted },
        text: [...pageNotice(page, 'older lines', 'tail, since or grep'), ...page.items].join('\n'),
      }),
    });
    return { data: fit.data, text: fit.text, ...(partial ? { partial } : {}) };
  },
});
