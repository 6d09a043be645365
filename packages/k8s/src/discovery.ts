/** API discovery: which resource a kind (or plural, short name) names, cached per client. */
import { ToolError } from '@infra-mcp/core';
import type { KubeClient, Obj } from './client.js';

export interface ApiResource {
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
}

const cache = new WeakMap<KubeClient, Promise<ApiResource[]>>();

export function discover(client: KubeClient, signal?: AbortSignal): Promise<ApiResource[]> {
  let p = cache.get(client);
  if (!p) {
    p = load(client, signal);
    cache.set(client, p);
    p.catch(() => cache.delete(client));
  }
  return p;
}

/** Aggregated discovery (Kubernetes 1.30+; v2beta1 from 1.26): every group and resource in two requests. */
const AGGREGATED = ['v2', 'v2beta1']
  .map((v) => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`)
  .concat('application/json')
  .join(',');

async function load(client: KubeClient, signal?: AbortSignal): Promise<ApiResource[]> {
  const [core, groups] = await Promise.all([
    client.get<Obj>('/api', { accept: AGGREGATED, signal }),
    client.get<Obj>('/apis', { accept: AGGREGATED, signal }),
  ]);
  if (core.kind === 'APIGroupDiscoveryList' && groups.kind === 'APIGroupDiscoveryList')
    return [...fromAggregated(core), ...fromAggregated(groups)];
  return legacy(
    client,
    groups.kind === 'APIGroupList' ? groups : await client.get<Obj>('/apis', { signal }),
    signal,
  );
}

/** The preferred version of each group (listed first), as kubectl api-resources shows them. */
function fromAggregated(list: Obj): ApiResource[] {
  const out: ApiResource[] = [];
  for (const item of list.items ?? []) {
    const group: string = item.metadata?.name ?? '';
    const preferred = item.versions?.[0];
    if (!preferred) continue;
    const version: string = preferred.version;
    for (const r of preferred.resources ?? [])
      out.push({
        group,
        version,
        apiVersion: group ? `${group}/${version}` : version,
        kind: r.responseKind?.kind ?? '',
        plural: r.resource,
        namespaced: r.scope === 'Namespaced',
        shortNames: r.shortNames ?? [],
        verbs: r.verbs ?? [],
      });
  }
  return out;
}

/** Legacy discovery: one request per group-version. */
async function legacy(client: KubeClient, groups: Obj, signal?: AbortSignal): Promise<ApiResource[]> {
  const gvs: string[] = [
    'v1',
    ...(groups.groups ?? []).map((g: Obj) => g.preferredVersion?.groupVersion ?? g.versions[0].groupVersion),
  ];
  const lists = await Promise.all(
    gvs.map((gv) =>
      client.get<Obj>(gv === 'v1' ? '/api/v1' : `/apis/${gv}`, { signal }).catch(() => undefined),
    ),
  );
  const out: ApiResource[] = [];
  for (const [i, list] of lists.entries()) {
    const gv = gvs[i] as string;
    const [group, version] = gv.includes('/') ? (gv.split('/') as [string, string]) : ['', gv];
    for (const r of list?.resources ?? []) {
      if (r.name.includes('/')) continue;
      out.push({
        group,
        version,
        apiVersion: gv,
        kind: r.kind,
        plural: r.name,
        namespaced: r.namespaced,
        shortNames: r.shortNames ?? [],
        verbs: r.verbs ?? [],
      });
    }
  }
  return out;
}

/**
 * The resource `kind` names: a kind (Pod), plural (pods), short name (po) or `plural.group`,
 * optionally with `apiVersion`. Unknown or ambiguous kinds are errors that say what to write.
 */
export async function resolveKind(
  client: KubeClient,
  kind: string,
  apiVersion?: string,
  signal?: AbortSignal,
): Promise<ApiResource> {
  const all = await discover(client, signal);
  const k = kind.toLowerCase();
  const [name, ...groupParts] = k.split('.');
  const group = groupParts.join('.');
  const found = all.filter(
    (r) =>
      (r.kind.toLowerCase() === k ||
        r.plural === k ||
        r.shortNames.includes(k) ||
        (group && r.plural === name && r.group === group)) &&
      (!apiVersion || r.apiVersion === apiVersion),
  );
  // a bare name the core group serves means the core kind (pods, not metrics.k8s.io pods), as in kubectl
  const core = !apiVersion && !group ? found.filter((r) => r.group === '') : [];
  if (core.length === 1) return core[0] as ApiResource;
  if (found.length === 1) return found[0] as ApiResource;
  if (found.length === 0)
    throw new ToolError(
      'unknown_kind',
      `the cluster serves no kind "${kind}"${apiVersion ? ` in ${apiVersion}` : ''}`,
      'k8s_api_resources lists the kinds this cluster serves (CRDs included)',
    );
  throw new ToolError(
    'ambiguous_kind',
    `kind "${kind}" is served by several API groups: ${found.map((r) => r.apiVersion).join(', ')}`,
    `name one with apiVersion (e.g. apiVersion: "${found[0]?.apiVersion}") or write ${found.map((r) => `${r.plural}.${r.group || 'core'}`).join(' / ')}`,
  );
}

export function resourcePath(r: ApiResource, namespace?: string, name?: string, sub?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
}
