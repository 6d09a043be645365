import { z } from 'zod';
import type { Obj } from '../client.js';
import { tool } from '../common.js';

export const canITool = tool({
  name: 'can_i',
  title: 'Can I',
  description: 'Whether this identity may do a verb on a resource (SelfSubjectAccessReview).',
  input: z.object({
    verb: z.string().min(1).describe('get, list, create, patch, delete, ...'),
    resource: z.string().min(1).describe('Plural resource, e.g. pods, deployments'),
    group: z.string().optional().describe('API group ("" for core, apps, ...)'),
    namespace: z.string().optional().describe('Namespace (none: cluster-wide)'),
    name: z.string().optional(),
    subresource: z.string().optional().describe('e.g. log, scale'),
  }),
  output: z.object({ allowed: z.boolean(), reason: z.string().optional() }),
  effect: 'read',
  toolset: 'read',
  run: async (args, ctx) => {
    const res = (await ctx.client.request('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { ...args, group: args.group ?? '' } },
      },
      signal: ctx.signal,
    })) as Obj;
    const allowed = Boolean(res.status?.allowed);
    const reason = res.status?.reason ?? res.status?.evaluationError;
    return {
      data: { allowed, ...(reason ? { reason } : {}) },
      text: `${allowed ? 'yes' : 'no'}${reason ? ` (${reason})` : ''}`,
    };
  },
});
