/**
 * Release operations against a cluster: the kubeconfig, context and namespace come from config and a
 * checked `namespace` argument, passed to helm as argv (`--kubeconfig`, `--kube-context`, `-n`).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkAllowed, isSecretKey, isToolError, ToolError } from '@infra-mcp/core';
import { parse } from 'yaml';
import { z } from 'zod';
import { type Ctx, helm } from './cli.js';
import { type ManifestObject, parseRendered, secretValues } from './manifest.js';

export const releaseArg = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a release name: lower case letters, digits, "-" and "."')
  .max(53)
  .describe('Release name');

export const namespaceArg = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name')
  .max(63)
  .optional()
  .describe('Namespace (default: the configured one)');

/** The namespace to use, checked against the allow-list. */
export function namespaceOf(ctx: Ctx, ns: string | undefined): string {
  const namespace = ns ?? ctx.config.namespace;
  checkAllowed(ctx.config.allow, 'namespace', namespace, {
    where: `helm instance "${ctx.instance}"`,
    configKey: 'plugins.helm.allow.namespace',
  });
  return namespace;
}

export function namespaceAllowed(ctx: Ctx, ns: string): boolean {
  try {
    checkAllowed(ctx.config.allow, 'namespace', ns);
    return true;
  } catch {
    return false;
  }
}

/** `--kubeconfig`, `--kube-context` (when configured) and `-n <namespace>`. */
export function clusterArgs(ctx: Ctx, namespace?: string): string[] {
  const c = ctx.config;
  return [
    ...(c.kubeconfig ? ['--kubeconfig', c.kubeconfig] : []),
    ...(c.context ? ['--kube-context', c.context] : []),
    ...(namespace ? ['-n', namespace] : []),
  ];
}

const NOT_FOUND = /release: not found/;

/** helm with cluster args; "release: not found" becomes a not_found error naming release and namespace. */
export async function helmRelease(
  ctx: Ctx,
  args: string[],
  where: { release?: string; namespace?: string },
  opts: { rawStdout?: boolean } = {},
) {
  try {
    return await helm(ctx, [...args, ...clusterArgs(ctx, where.namespace)], {
      hint: 'check the release, the namespace and plugins.helm.kubeconfig/context',
      ...opts,
    });
  } catch (err) {
    if (where.release && isToolError(err) && err.code === 'command_failed' && NOT_FOUND.test(err.message))
      throw new ToolError(
        'not_found',
        `release "${where.release}" not found in namespace ${where.namespace}`,
        'helm_list shows the releases (allNamespaces: true to look everywhere)',
      );
    throw err;
  }
}

export function parseJsonOut<T>(stdout: string, what: string): T {
  try {
    return JSON.parse(stdout) as T;
  } catch (e) {
    throw new ToolError(
      'backend_error',
      `${what} did not print JSON: ${(e as Error).message}`,
      'check the helm version (>= 3)',
    );
  }
}

export interface HistoryEntry {
  revision: number;
  updated: string;
  status: string;
  chart: string;
  appVersion: string;
  description: string;
}

export async function history(
  ctx: Ctx,
  release: string,
  namespace: string,
  max = 256,
): Promise<HistoryEntry[]> {
  const r = await helmRelease(ctx, ['history', release, '--max', String(max), '-o', 'json'], {
    release,
    namespace,
  });
  const rows = parseJsonOut<Record<string, unknown>[]>(r.stdout, 'helm history');
  return rows.map((h) => ({
    revision: Number(h.revision),
    updated: isoTime(String(h.updated ?? '')),
    status: String(h.status ?? ''),
    chart: String(h.chart ?? ''),
    appVersion: String(h.app_version ?? ''),
    description: String(h.description ?? ''),
  }));
}

/** The release's latest revision, null when there is no such release. */
export async function currentRevision(ctx: Ctx, release: string, namespace: string): Promise<number | null> {
  try {
    const h = await history(ctx, release, namespace, 1);
    return h.at(-1)?.revision ?? null;
  } catch (err) {
    if (isToolError(err) && err.code === 'not_found') return null;
    throw err;
  }
}

/** The rendered manifest of a revision (`helm get manifest`), its secrets registered and hidden. */
export async function revisionManifest(
  ctx: Ctx,
  release: string,
  namespace: string,
  revision: number,
): Promise<{ objects: ManifestObject[]; sha256: string }> {
  // unmasked: Secret values are hidden per object below, so that a changed one still shows as changed
  const r = await helmRelease(
    ctx,
    ['get', 'manifest', release, '--revision', String(revision)],
    { release, namespace },
    { rawStdout: true },
  );
  return rendered(ctx, r.stdout, namespace, `the manifest of revision ${revision}`);
}

export function rendered(ctx: Ctx, text: string, namespace: string, what: string) {
  const objects = parseRendered(text, namespace, what);
  for (const o of objects) for (const s of o.secrets) ctx.secret(s);
  return { objects, sha256: createHash('sha256').update(text).digest('hex') };
}

/** Registers literal secrets of values (under credential-looking keys) so they are masked everywhere. */
export function registerSecrets(ctx: Ctx, ...values: unknown[]): void {
  for (const v of values) for (const s of secretValues(v)) ctx.secret(s);
}

/**
 * Registers the credentials of values files and of the chart's own values.yaml before helm runs, so
 * they are masked even in helm's error messages. A file that does not parse is left to helm to report.
 */
export function registerValuesFiles(ctx: Ctx, chartDir: string, files: string[]): void {
  for (const f of [join(chartDir, 'values.yaml'), ...files]) {
    try {
      registerSecrets(ctx, parse(readFileSync(f, 'utf8')));
    } catch {
      // unreadable or not YAML: helm says so
    }
  }
}

/** Registers the values of `--set` pairs whose key looks like a credential. */
export function registerSetSecrets(ctx: Ctx, set: Record<string, string>): void {
  for (const [k, v] of Object.entries(set)) if (isSecretKey(k.split('.').at(-1) ?? k)) ctx.secret(v);
}

/** helm's times (`2026-11-23 22:16:23.98 +0000 UTC`, RFC 3339 with nanoseconds) as ISO to the second. */
export function isoTime(t: string): string {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.\d+)?\s*(Z|[+-]\d\d:?\d\d)?/.exec(t);
  if (!m) return t;
  const zone =
    !m[3] || m[3] === 'Z' || /^[+-]00:?00$/.test(m[3]) ? 'Z' : m[3].replace(/(\d\d)(\d\d)$/, '$1:$2');
  return `${m[1]}T${m[2]}${zone}`;
}
