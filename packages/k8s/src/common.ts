import { checkAllowed, type ToolCtx, toolkit } from '@infra-mcp/core';
import { z } from 'zod';
import type { KubeClient, Obj } from './client.js';
import type { K8sConfig } from './config.js';

export type Ctx = ToolCtx<KubeClient, K8sConfig>;

/** Kubernetes tools: `ctx.client` is the instance's KubeClient, `ctx.config` its options. */
export const tool = toolkit<KubeClient, K8sConfig>();

export const kindArg = z
  .string()
  .min(1)
  .describe('Kind, plural or short name: Pod, deployments, svc, widgets.example.com');
export const apiVersionArg = z
  .string()
  .optional()
  .describe('apiVersion when the kind is served by several groups, e.g. apps/v1');
export const namespaceArg = z.string().optional().describe("Namespace (default: the context's)");
export const nameArg = z.string().min(1).describe('Object name');

/** The namespace a call works in, checked against the instance's allow-list. */
export function namespaceOf(ctx: Ctx, namespace: string | undefined): string {
  const ns = namespace ?? ctx.client.namespace;
  checkAllowed(ctx.config?.allow, 'namespace', ns, { where: `k8s instance "${ctx.instance}"` });
  return ns;
}

/** An object without what no reader needs: managedFields and the last-applied annotation. */
export function slim(o: Obj): Obj {
  if (!o?.metadata) return o;
  const { managedFields: _m, ...meta } = o.metadata;
  if (meta.annotations) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _l, ...rest } = meta.annotations;
    meta.annotations = Object.keys(rest).length ? rest : undefined;
    if (!meta.annotations) delete meta.annotations;
  }
  return { ...o, metadata: meta };
}

/** Value at a dotted path (`status.phase`, `spec.containers.0.image`). */
export function pick(o: unknown, path: string): unknown {
  let cur: any = o;
  for (const k of path.split('.')) cur = cur?.[k];
  return cur;
}

export function age(ts: string | undefined): string {
  if (!ts) return '';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
