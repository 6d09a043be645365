/**
 * The revision history kube-controller-manager keeps for StatefulSets and DaemonSets: one
 * ControllerRevision per distinct pod template, owned by the workload, labelled with the template's
 * labels, numbered in order; returning to an earlier template renumbers that revision as the newest
 * (as the real controllers do), and at most `revisionHistoryLimit` (10) old revisions are kept.
 * Its `data` is the strategic merge patch that restores the template, which `kubectl rollout undo`
 * sends back as is.
 */
import { createHash } from 'node:crypto';
import type { KubeResource } from './resources.js';
import type { Obj, Store } from './store.js';

const REVISED = ['StatefulSet', 'DaemonSet'];
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** The strategic merge patch of a workload that puts its pod template back. */
export function templatePatch(workload: Obj): Obj {
  return { spec: { template: { ...(workload.spec?.template ?? {}), $patch: 'replace' } } };
}

/** After a StatefulSet or DaemonSet is stored: record its template as the newest revision. */
export function recordRevision(
  store: Store,
  resources: KubeResource[],
  r: KubeResource,
  workload: Obj,
): void {
  if (!REVISED.includes(r.kind) || r.group !== 'apps') return;
  const crs = resources.find((x) => x.kind === 'ControllerRevision' && x.group === 'apps');
  if (!crs) return;
  const ns = workload.metadata.namespace;
  const uid = workload.metadata.uid;
  const owned = store
    .list(crs, ns)
    .filter((c) => (c.metadata.ownerReferences ?? []).some((o: Obj) => o.uid === uid && o.controller));
  const data = templatePatch(workload);
  const text = JSON.stringify(data);
  const newest = Math.max(0, ...owned.map((c) => Number(c.revision)));
  let current = owned.find((c) => JSON.stringify(c.data) === text);
  if (current && Number(current.revision) !== newest) {
    current.revision = newest + 1;
    store.put(crs, current);
  } else if (!current) {
    const hash = revisionHash(text);
    const name = `${workload.metadata.name.slice(0, 223)}-${hash}`;
    const labels: Record<string, string> = {
      ...(workload.spec?.template?.metadata?.labels ?? {}),
      [r.kind === 'DaemonSet' ? 'controller-revision-hash' : 'controller.kubernetes.io/hash']: hash,
    };
    current = store.put(
      crs,
      store.prepare(
        crs,
        {
          apiVersion: 'apps/v1',
          kind: 'ControllerRevision',
          metadata: {
            name,
            namespace: ns,
            labels,
            // the controllers copy the workload's annotations (kubernetes.io/change-cause among them)
            ...(workload.metadata.annotations ? { annotations: { ...workload.metadata.annotations } } : {}),
            ownerReferences: [
              {
                apiVersion: 'apps/v1',
                kind: r.kind,
                name: workload.metadata.name,
                uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          data,
          revision: newest + 1,
        },
        ns,
      ),
    );
    owned.push(current);
  }
  const limit = workload.spec?.revisionHistoryLimit ?? 10;
  const old = owned.filter((c) => c !== current).sort((a, b) => Number(a.revision) - Number(b.revision));
  for (const c of old.slice(0, Math.max(0, old.length - limit))) store.remove(crs, ns, c.metadata.name);
  if (r.kind === 'StatefulSet' && current)
    workload.status = {
      ...(workload.status ?? {}),
      currentRevision: current.metadata.name,
      updateRevision: current.metadata.name,
    };
}

/**
 * A strategic merge patch as far as the fake needs it (kubectl set image, rollout undo): a JSON merge
 * patch that honours `$patch: replace` and `$patch: delete`, merges lists of named objects
 * (containers, env, volumes) by name, replaces other lists, and drops the ordering directives.
 */
export function strategicMergePatch(target: any, patch: any): any {
  if (Array.isArray(patch)) return Array.isArray(target) ? mergeNamed(target, patch) : patch;
  if (patch === null || typeof patch !== 'object') return patch;
  const { $patch: directive, ...rest } = patch as Obj;
  if (directive === 'replace') return rest;
  if (directive === 'delete') return undefined;
  const out: Obj = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(rest)) {
    if (k.startsWith('$')) continue; // $setElementOrder/..., $retainKeys, $deleteFromPrimitiveList/...
    const merged = v === null ? undefined : strategicMergePatch(out[k], v);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}

function mergeNamed(target: unknown[], patch: unknown[]): unknown[] {
  const named = (xs: unknown[]) => xs.every((x) => typeof (x as Obj)?.name === 'string');
  if (!named(patch) || !named(target)) return patch;
  const out = [...target] as Obj[];
  for (const p of patch as Obj[]) {
    const i = out.findIndex((t) => t.name === p.name);
    const merged = strategicMergePatch(i >= 0 ? out[i] : undefined, p);
    if (i >= 0 && merged === undefined) out.splice(i, 1);
    else if (i >= 0) out[i] = merged;
    else if (merged !== undefined) out.push(merged);
  }
  return out;
}

function revisionHash(text: string): string {
  const digest = createHash('sha256').update(text).digest();
  return [...digest.subarray(0, 10)].map((b) => SAFE[b % SAFE.length]).join('');
}
