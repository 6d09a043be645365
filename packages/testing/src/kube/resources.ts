/** The kinds the fake API server serves, and its discovery documents. */
export interface KubeResource {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  /** Subresources served: `scale`, `log`, `status`. */
  sub?: string[];
  /** Served only by an aggregated API that may be absent (metrics-server). */
  api?: 'metrics';
  /** create-only review kinds (SelfSubjectAccessReview). */
  review?: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: KubeResource[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
  },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false, shortNames: ['no'] },
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    namespaced: true,
    shortNames: ['po'],
    sub: ['log', 'status'],
  },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', namespaced: true, shortNames: ['svc'] },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true, shortNames: ['cm'] },
  { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true },
  {
    group: '',
    version: 'v1',
    kind: 'ServiceAccount',
    plural: 'serviceaccounts',
    namespaced: true,
    shortNames: ['sa'],
  },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', namespaced: true, shortNames: ['ev'] },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    namespaced: true,
    shortNames: ['deploy'],
    sub: ['scale', 'status'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    namespaced: true,
    shortNames: ['rs'],
    sub: ['scale', 'status'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    plural: 'statefulsets',
    namespaced: true,
    shortNames: ['sts'],
    sub: ['scale', 'status'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    plural: 'daemonsets',
    namespaced: true,
    shortNames: ['ds'],
    sub: ['status'],
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ControllerRevision',
    plural: 'controllerrevisions',
    namespaced: true,
  },
  { group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', namespaced: true, sub: ['status'] },
  // what a Helm chart renders besides workloads (deploy/helm/infra-mcp)
  {
    group: 'policy',
    version: 'v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
    namespaced: true,
    shortNames: ['pdb'],
    sub: ['status'],
  },
  {
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    namespaced: true,
    shortNames: ['hpa'],
    sub: ['status'],
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    shortNames: ['netpol'],
  },
  ...(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'] as const).map((kind) => ({
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    kind,
    plural: `${kind.toLowerCase()}s`,
    namespaced: !kind.startsWith('Cluster'),
  })),
  // the same kind in a second group (the core "Event" still wins for a bare name, as in kubectl)
  {
    group: 'events.k8s.io',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    namespaced: true,
    shortNames: ['ev'],
  },
  {
    group: 'authorization.k8s.io',
    version: 'v1',
    kind: 'SelfSubjectAccessReview',
    plural: 'selfsubjectaccessreviews',
    namespaced: false,
    review: true,
  },
  {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    kind: 'PodMetrics',
    plural: 'pods',
    namespaced: true,
    api: 'metrics',
  },
  {
    group: 'metrics.k8s.io',
    version: 'v1beta1',
    kind: 'NodeMetrics',
    plural: 'nodes',
    namespaced: false,
    api: 'metrics',
  },
  // one custom resource (a CRD)
  {
    group: 'example.com',
    version: 'v1',
    kind: 'Widget',
    plural: 'widgets',
    namespaced: true,
    shortNames: ['wd'],
  },
  // a second CRD group with the same kind: "Widget" is ambiguous without an apiVersion
  { group: 'other.example.org', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true },
];

export function apiVersionOf(r: KubeResource): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

function verbsOf(r: KubeResource): string[] {
  if (r.review) return ['create'];
  if (r.api === 'metrics') return ['get', 'list'];
  return ALL_VERBS;
}

/** `/api/v1` or `/apis/<g>/<v>`: an APIResourceList. */
export function resourceList(resources: KubeResource[], group: string, version: string) {
  const rs = resources.filter((r) => r.group === group && r.version === version);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: rs.flatMap((r) => [
      {
        name: r.plural,
        singularName: r.kind.toLowerCase(),
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: verbsOf(r),
        ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      },
      ...(r.sub ?? []).map((s) => ({
        name: `${r.plural}/${s}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: s === 'scale' ? 'Scale' : s === 'log' ? 'Pod' : r.kind,
        ...(s === 'scale' ? { group: 'autoscaling', version: 'v1' } : {}),
        verbs: s === 'log' ? ['get'] : ['get', 'patch', 'update'],
      })),
    ]),
  };
}

/** `/apis`: the APIGroupList. */
export function groupList(resources: KubeResource[]) {
  const groups = new Map<string, Set<string>>();
  for (const r of resources)
    if (r.group) groups.set(r.group, (groups.get(r.group) ?? new Set()).add(r.version));
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => {
      const vs = [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
      return { name, versions: vs, preferredVersion: vs[0] };
    }),
  };
}
