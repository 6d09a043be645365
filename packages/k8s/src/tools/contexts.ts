import { readFile } from 'node:fs/promises';
import { matchesAny, table } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { type Ctx, tool } from '../common.js';
import { kubeconfigPath } from '../kubeconfig.js';
import { loadYaml } from '../yaml.js';

interface ContextRow {
  name: string;
  server: string;
  namespace: string;
  current: boolean;
  readOnly: boolean;
}

/** Every context of the kubeconfig, without credentials: its cluster's server, namespace, policy. */
async function kubeconfigContexts(ctx: Ctx): Promise<ContextRow[] | undefined> {
  const config = ctx.config;
  if (!config || config.inCluster) return undefined;
  let kc: Obj;
  try {
    kc = (await loadYaml()).parse(await readFile(kubeconfigPath(config), 'utf8')) ?? {};
  } catch {
    return undefined; // the client read it at setup; a file changed since is not this tool's to report
  }
  const clusters = new Map<string, Obj>((kc.clusters ?? []).map((c: Obj) => [c?.name, c?.cluster ?? {}]));
  return (kc.contexts ?? [])
    .filter((c: Obj) => typeof c?.name === 'string')
    .map((c: Obj) => ({
      name: c.name,
      server: String(clusters.get(c.context?.cluster)?.server ?? ''),
      namespace: String(c.context?.namespace ?? 'default'),
      current: c.name === kc['current-context'],
      readOnly: matchesAny(c.name, config.readOnlyContexts),
    }));
}

export const contextsTool = tool({
  name: 'contexts',
  title: 'Contexts',
  description:
    "Every kubeconfig context (server, namespace, read-only, which is current) and this instance's policy (read-only, namespace allow-list).",
  input: z.object({}),
  output: z.object({
    context: z.string(),
    server: z.string(),
    namespace: z.string(),
    readOnlyContext: z.boolean(),
    exec: z.boolean().describe('k8s_exec may run here (execContexts)'),
    revealSecrets: z.boolean().describe('k8s_get shows Secret values here (revealSecretsContexts)'),
    allowedNamespaces: z.array(z.string()).optional(),
    contexts: z
      .array(
        z.object({
          name: z.string(),
          server: z.string(),
          namespace: z.string(),
          current: z.boolean(),
          readOnly: z.boolean(),
        }),
      )
      .describe("The kubeconfig's contexts (no credentials)"),
  }),
  effect: 'read',
  toolset: 'read',
  run: async (_args, ctx) => {
    const c = ctx.client;
    const readOnlyContext = matchesAny(c.context, ctx.config.readOnlyContexts);
    const contexts = (await kubeconfigContexts(ctx)) ?? [
      {
        name: c.context,
        server: c.server,
        namespace: c.namespace,
        current: true,
        readOnly: readOnlyContext,
      },
    ];
    const data = {
      context: c.context,
      server: c.server,
      namespace: c.namespace,
      readOnlyContext,
      exec: matchesAny(c.context, ctx.config.execContexts),
      revealSecrets: matchesAny(c.context, ctx.config.revealSecretsContexts),
      ...(ctx.config.allow?.namespace ? { allowedNamespaces: ctx.config.allow.namespace } : {}),
      contexts,
    };
    return {
      data,
      text: [
        `this instance (${ctx.instance}, marked *): context ${c.context}, exec ${data.exec ? 'on' : 'off'}, Secret values ${data.revealSecrets ? 'shown' : 'redacted'}, namespaces ${data.allowedNamespaces?.join(',') ?? '*'}`,
        table(
          ['', 'CONTEXT', 'SERVER', 'NAMESPACE', 'CURRENT', 'READ-ONLY'],
          contexts.map((x) => [
            x.name === c.context ? '*' : '',
            x.name,
            x.server,
            x.namespace,
            String(x.current),
            String(x.readOnly),
          ]),
        ),
      ].join('\n'),
    };
  },
});
