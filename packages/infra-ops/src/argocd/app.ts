/** Argo CD application shapes and the compact pieces every tool shows. */
import { checkAllowed, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { type Ctx, seg } from './client.js';

export interface Resource {
  group?: string;
  kind: string;
  namespace?: string;
  name: string;
  status?: string;
  health?: { status?: string };
  requiresPruning?: boolean;
}

export interface Application {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec: {
    project?: string;
    destination?: { server?: string; name?: string; namespace?: string };
    source?: { repoURL?: string; path?: string; chart?: string; targetRevision?: string };
  };
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string };
    resources?: Resource[];
    history?: { id: number | string; revision?: string; deployedAt?: string }[];
    operationState?: { phase?: string; message?: string; startedAt?: string; finishedAt?: string };
    reconciledAt?: string;
  };
}

export const appArg = z.string().min(1).max(253).describe('Application name');

/** The app name checked against the allow-list. */
export function allowedApp(ctx: Ctx, app: string): string {
  return checkAllowed(ctx.config.allow, 'app', app, {
    where: `argocd instance "${ctx.instance}"`,
    configKey: 'plugins.argocd.allow.app',
  });
}

export async function getApp(ctx: Ctx, app: string, query: [string, string][] = []): Promise<Application> {
  const a = await ctx.client.api<Application>('GET', `applications/${seg(allowedApp(ctx, app))}`, {
    query,
    signal: ctx.signal,
  });
  if (a.spec?.project)
    checkAllowed(ctx.config.allow, 'project', a.spec.project, {
      where: `argocd instance "${ctx.instance}"`,
      configKey: 'plugins.argocd.allow.project',
    });
  return a;
}

/** "team-a@in-cluster" for a destination. */
export function destination(d: Application['spec']['destination']): string {
  const server = d?.name ?? d?.server ?? '';
  const cluster =
    server === 'https://kubernetes.default.svc' ? 'in-cluster' : server.replace(/^https?:\/\//, '');
  return `${d?.namespace ?? ''}@${cluster}`;
}

export const ref = (r: Resource) => `${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

export const shortRev = (rev?: string) => (rev && /^[0-9a-f]{40}$/.test(rev) ? rev.slice(0, 8) : (rev ?? ''));

const DONE = new Set(['Succeeded', 'Failed', 'Error']);

/** Waits for the app's operation to finish (ctx.poll: progress each step; "still running" past the deadline). */
export async function waitForOperation(ctx: Ctx, app: string, what: string): Promise<Application> {
  const a = await ctx.poll<Application>(
    async () => {
      const cur = await ctx.client.api<Application>('GET', `applications/${seg(app)}`, {
        signal: ctx.signal,
      });
      const op = cur.status?.operationState;
      if (op?.phase && DONE.has(op.phase)) return { done: true, value: cur };
      return {
        done: false,
        message: `${what} of ${app}: ${op?.phase ?? 'pending'} ${op?.message ?? ''}`.trim(),
      };
    },
    {
      intervalMs: ctx.config.pollIntervalMs,
      operation: { id: `argocd:${app}:${what}`, poll: { tool: 'argocd_app', arguments: { app } } },
    },
  );
  const op = a.status?.operationState;
  if (op?.phase !== 'Succeeded')
    throw new ToolError(
      `${what}_failed`,
      `${what} of ${app} ended ${op?.phase}: ${op?.message ?? ''}`,
      'see argocd_app for the resources that failed',
      {
        app,
        phase: op?.phase,
        message: op?.message,
      },
    );
  return a;
}
