/**
 * Aggregated discovery (apidiscovery.k8s.io, KEP-3352): `/api` and `/apis` answer every group,
 * version and resource in one document when the client asks for it in `Accept`, as kubectl and
 * client-go do since 1.30; other clients get the legacy documents. Built from the legacy resource
 * lists, so a kind added to RESOURCES shows in both forms.
 */
import { groupList, type KubeResource, resourceList } from './resources.js';

const FORMATS = ['v2', 'v2beta1'] as const;
export type AggregatedVersion = (typeof FORMATS)[number];

/** The aggregated format a client's Accept header asks for (the first one listed that is served), if any. */
export function aggregatedFormat(accept: string | undefined): AggregatedVersion | undefined {
  for (const range of (accept ?? '').split(',')) {
    const params = new Map(
      range
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    const v = params.get('v') as AggregatedVersion;
    if (
      params.get('g') === 'apidiscovery.k8s.io' &&
      params.get('as') === 'APIGroupDiscoveryList' &&
      FORMATS.includes(v)
    )
      return v;
  }
  return undefined;
}

export function aggregatedContentType(v: AggregatedVersion): string {
  return `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;
}

/** The APIGroupDiscoveryList of `/api` (the core group) or `/apis` (every named group). */
export function aggregatedDiscovery(resources: KubeResource[], path: '/api' | '/apis', v: AggregatedVersion) {
  const groups =
    path === '/api'
      ? [{ name: '', versions: ['v1'] }]
      : groupList(resources).groups.map((g) => ({
          name: g.name,
          // the preferred version first, as the API server orders them
          versions: [
            g.preferredVersion.version,
            ...g.versions.map((x) => x.version).filter((x) => x !== g.preferredVersion.version),
          ],
        }));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${v}`,
    metadata: {},
    items: groups.map((g) => ({
      metadata: { ...(g.name ? { name: g.name } : {}), creationTimestamp: null },
      versions: g.versions.map((version) => ({
        version,
        resources: discoveryResources(resourceList(resources, g.name, version).resources, g.name, version),
        freshness: 'Current',
      })),
    })),
  };
}

type LegacyResource = ReturnType<typeof resourceList>['resources'][number] & {
  shortNames?: string[];
  group?: string;
  version?: string;
};

function discoveryResources(list: LegacyResource[], group: string, version: string) {
  const top = list.filter((r) => !r.name.includes('/'));
  return top.map((r) => {
    const subs = list.filter((s) => s.name.startsWith(`${r.name}/`));
    return {
      resource: r.name,
      responseKind: { group, version, kind: r.kind },
      scope: r.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: r.singularName,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(subs.length
        ? {
            subresources: subs.map((s) => {
              return {
                subresource: s.name.slice(r.name.length + 1),
                responseKind: { group: s.group ?? group, version: s.version ?? version, kind: s.kind },
                verbs: s.verbs,
              };
            }),
          }
        : {}),
    };
  });
}
