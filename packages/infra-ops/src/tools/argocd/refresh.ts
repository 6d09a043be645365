import { z } from 'zod';
import { appArg, getApp, shortRev } from '../../argocd/app.js';
import { tool } from '../../argocd/client.js';

export const refreshTool = tool({
  name: 'refresh',
  title: 'Refresh an Argo CD application',
  description:
    'Make Argo CD compare the app with git again (hard: also regenerate manifests); answers the new sync and health.',
  input: z.object({
    app: appArg,
    hard: z.boolean().default(false).describe('Hard refresh (invalidate the manifest cache)'),
  }),
  output: z.object({ name: z.string(), sync: z.string(), health: z.string(), revision: z.string() }),
  effect: 'read',
  run: async ({ app, hard }, ctx) => {
    const a = await getApp(ctx, app, [['refresh', hard ? 'hard' : 'normal']]);
    const data = {
      name: a.metadata.name,
      sync: a.status?.sync?.status ?? 'Unknown',
      health: a.status?.health?.status ?? 'Unknown',
      revision: shortRev(a.status?.sync?.revision),
    };
    return { data, text: `${data.name} refreshed: ${data.sync} at ${data.revision}, ${data.health}` };
  },
});
