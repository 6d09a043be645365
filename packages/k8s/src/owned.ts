import type { KubeClient, Obj } from './client.js';

/** Pods in `ns` owned by `owner` directly or through a ReplicaSet (a deployment's pods). */
export async function ownedPods(client: KubeClient, owner: Obj, signal?: AbortSignal): Promise<Obj[]> {
  const ns = owner.metadata?.namespace;
  if (!ns) return [];
  const selector = owner.spec?.selector?.matchLabels as Record<string, string> | undefined;
  const labelSelector = selector
    ? Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')
    : undefined;
  const uids = new Set<string>([owner.metadata.uid]);
  if (owner.kind === 'Deployment') {
    const rs = await client.get<Obj>(`/apis/apps/v1/namespaces/${ns}/replicasets`, {
      query: { labelSelector },
      signal,
    });
    for (const r of rs.items ?? []) if (ownedBy(r, uids)) uids.add(r.metadata.uid);
  }
  const pods = await client.get<Obj>(`/api/v1/namespaces/${ns}/pods`, { query: { labelSelector }, signal });
  return (pods.items ?? []).filter((p: Obj) => ownedBy(p, uids));
}

function ownedBy(o: Obj, uids: Set<string>): boolean {
  return (o.metadata?.ownerReferences ?? []).some((r: Obj) => uids.has(r.uid));
}

/** Dependents of an object among the kinds that usually have owners (for delete previews). */
export async function dependents(client: KubeClient, owner: Obj, signal?: AbortSignal): Promise<string[]> {
  const ns = owner.metadata?.namespace;
  if (!ns) return [];
  const out: string[] = [];
  const seen = new Set<string>([owner.metadata.uid]);
  const kinds = [
    ['/apis/apps/v1', 'replicasets', 'ReplicaSet'],
    ['/api/v1', 'pods', 'Pod'],
    ['/apis/batch/v1', 'jobs', 'Job'],
  ] as const;
  const lists = await Promise.all(
    kinds.map(([base, plural]) =>
      client.get<Obj>(`${base}/namespaces/${ns}/${plural}`, { signal }).catch(() => ({ items: [] })),
    ),
  );
  // two passes: a deployment owns replicasets, which own pods
  for (let pass = 0; pass < 2; pass++)
    for (const [i, list] of lists.entries())
      for (const o of list.items ?? [])
        if (!seen.has(o.metadata.uid) && ownedBy(o, seen)) {
          seen.add(o.metadata.uid);
          out.push(`${kinds[i]?.[2]}/${o.metadata.name}`);
        }
  return out;
}
