/** Generic object storage of the fake API server: any kind, resourceVersion, uid, owners. */
import { randomUUID } from 'node:crypto';
import { apiVersionOf, type KubeResource } from './resources.js';

export type Obj = Record<string, any>;

export class KubeStatus extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Obj,
  ) {
    super(message);
  }
  body(): Obj {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export function notFound(r: KubeResource, name: string): KubeStatus {
  const resource = r.group ? `${r.plural}.${r.group}` : r.plural;
  return new KubeStatus(404, 'NotFound', `${resource} "${name}" not found`, {
    name,
    group: r.group,
    kind: r.plural,
  });
}

export class Store {
  private rv = 1000;
  private readonly objects = new Map<string, Obj>();

  key(r: KubeResource, ns: string | undefined, name: string): string {
    return `${r.group}/${r.plural}/${r.namespaced ? (ns ?? '') : ''}/${name}`;
  }
  nextVersion(): string {
    return String(++this.rv);
  }
  get version(): string {
    return String(this.rv);
  }
  get(r: KubeResource, ns: string | undefined, name: string): Obj | undefined {
    return this.objects.get(this.key(r, ns, name));
  }
  /** Every object of a kind, sorted by namespace and name (stable pages). */
  list(r: KubeResource, ns?: string): Obj[] {
    const prefix = `${r.group}/${r.plural}/${r.namespaced && ns ? `${ns}/` : ''}`;
    return [...this.objects]
      .filter(([k]) => k.startsWith(prefix))
      .map(([, o]) => o)
      .sort((a, b) =>
        `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
          `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
        ),
      );
  }
  all(): Obj[] {
    return [...this.objects.values()];
  }

  /** Fill in what the server sets (uid, resourceVersion, creationTimestamp, generation). */
  prepare(r: KubeResource, obj: Obj, ns: string | undefined, prev?: Obj): Obj {
    const meta = { ...(obj.metadata ?? {}) };
    if (r.namespaced) meta.namespace = ns ?? meta.namespace ?? 'default';
    else delete meta.namespace;
    meta.uid = prev?.metadata.uid ?? randomUUID();
    meta.creationTimestamp =
      prev?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const specChanged = !prev || JSON.stringify(prev.spec) !== JSON.stringify(obj.spec);
    meta.generation = (prev?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    meta.resourceVersion = this.version;
    return { ...obj, apiVersion: apiVersionOf(r), kind: r.kind, metadata: meta };
  }

  put(r: KubeResource, obj: Obj): Obj {
    obj.metadata.resourceVersion = this.nextVersion();
    this.objects.set(this.key(r, obj.metadata.namespace, obj.metadata.name), obj);
    return obj;
  }

  remove(r: KubeResource, ns: string | undefined, name: string): void {
    this.objects.delete(this.key(r, ns, name));
    this.nextVersion();
  }

  /** Objects whose ownerReferences name `uid`. */
  dependents(uid: string): Obj[] {
    return this.all().filter((o) => (o.metadata.ownerReferences ?? []).some((ref: Obj) => ref.uid === uid));
  }
}

/** JSON merge patch (RFC 7386); server-side apply is served as a merge of the applied config. */
export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Obj = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
