import { matchesAny, table } from '@infra-mcp/core';
import { z } from 'zod';
import { tool } from '../common.js';

export const contextsTool = tool({
  name: 'contexts',
  title: 'Contexts',
  description:
    "This instance's context, cluster server, default namespace, and policy (read-only, namespace allow-list).",
  input: z.object({}),
  output: z.object({
    context: z.string(),
    server: z.string(),
    namespace: z.string(),
    readOnlyContext: z.boolean(),
    exec: z.boolean().describe('k8s_exec may run here (execContexts)'),
    revealSecrets: z.boolean().describe('k8s_get shows Secret values here (revealSecretsContexts)'),
    allowedNamespaces: z.array(z.string()).optional(),
  }),
  effect: 'read',
  toolset: 'read',
  run: async (_args, ctx) => {
    const c = ctx.client;
    const data = {
      context: c.context,
      server: c.server,
      namespace: c.namespace,
      readOnlyContext: matchesAny(c.context, ctx.config.readOnlyContexts),
      exec: matchesAny(c.context, ctx.config.execContexts),
      revealSecrets: matchesAny(c.context, ctx.config.revealSecretsContexts),
      ...(ctx.config.allow?.namespace ? { allowedNamespaces: ctx.config.allow.namespace } : {}),
    };
    return {
      data,
      text: table(
        ['CONTEXT', 'SERVER', 'NAMESPACE', 'READ-ONLY', 'EXEC', 'SECRETS', 'NAMESPACES'],
        [
          [
            data.context,
            data.server,
            data.namespace,
            String(data.readOnlyContext),
            data.exec ? 'on' : 'off',
            data.revealSecrets ? 'shown' : 'redacted',
            data.allowedNamespaces?.join(',') ?? '*',
          ],
        ],
      ),
    };
  },
});
