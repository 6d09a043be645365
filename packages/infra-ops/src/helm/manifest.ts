/**
 * Rendered Helm manifests as objects, made safe to show, and diffed per object: what an upgrade or a
 * rollback would create, change or delete. Secret `data`/`stringData` values, values under
 * credential-looking keys and credential-named env values are replaced by `(hidden <mark>)`, where
 * the mark is an HMAC under a key of this process: a diff still says a secret changed, and the mark
 * cannot be checked against guessed values.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isSecretKey, ToolError } from '@infra-mcp/core';
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, any>;

export interface ManifestObject {
  /** `Kind namespace/name` (namespace omitted for cluster-scoped objects). */
  id: string;
  kind: string;
  name: string;
  namespace?: string;
  /** The object with its secrets hidden. */
  shown: Obj;
  /** helm.sh/resource-policy: keep (helm leaves it in place on uninstall and upgrade). */
  keep: boolean;
  /** Literal secrets it carries, for ctx.secret. */
  secrets: string[];
}

export interface FieldChange {
  path: string;
  from?: unknown;
  to?: unknown;
}

export interface ObjectDiff {
  object: string;
  action: 'create' | 'update' | 'delete' | 'unchanged' | 'keep';
  changes: FieldChange[];
}

const HMAC_KEY = randomBytes(32);
const hide = (v: unknown) =>
  `(hidden ${createHmac('sha256', HMAC_KEY).update(String(v)).digest('hex').slice(0, 8)})`;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The literal secrets an object carries (Secret values, decoded too; values under credential keys). */
export function secretValues(o: unknown): string[] {
  const out: string[] = [];
  if (isObj(o) && o.kind === 'Secret')
    for (const key of ['data', 'stringData'])
      if (isObj(o[key]))
        for (const v of Object.values(o[key])) {
          out.push(String(v));
          if (key === 'data') out.push(Buffer.from(String(v), 'base64').toString('utf8'));
        }
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) {
        if (isObj(x) && typeof x.name === 'string' && isSecretKey(x.name) && typeof x.value === 'string')
          out.push(x.value);
        walk(x);
      }
    } else if (isObj(v))
      for (const [k, x] of Object.entries(v)) {
        if (isSecretKey(k) && (typeof x === 'string' || typeof x === 'number')) out.push(String(x));
        else walk(x);
      }
  };
  walk(o);
  return out;
}

function mask(v: unknown): unknown {
  if (Array.isArray(v))
    return v.map((x) =>
      isObj(x) && typeof x.name === 'string' && isSecretKey(x.name) && x.value !== undefined
        ? { ...(mask(x) as Obj), value: hide(x.value) }
        : mask(x),
    );
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v))
    out[k] = isSecretKey(k) && (typeof x === 'string' || typeof x === 'number') ? hide(x) : mask(x);
  return out;
}

/** The objects of a rendered manifest (`helm get manifest`, the `manifest` of a dry run). */
export function parseRendered(text: string, defaultNamespace: string, what: string): ManifestObject[] {
  const out: ManifestObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    const err = doc.errors[0];
    if (err)
      throw new ToolError(
        'backend_error',
        `${what} is not valid YAML: ${err.message.split('\n')[0]}`,
        'check the chart',
      );
    const o = doc.toJS() as unknown;
    if (!isObj(o) || typeof o.kind !== 'string' || !isObj(o.metadata)) continue;
    const name = String(o.metadata.name ?? '?');
    const clusterScoped =
      /^(Namespace|ClusterRole|ClusterRoleBinding|CustomResourceDefinition|PersistentVolume|StorageClass|PriorityClass|(Mutating|Validating)WebhookConfiguration|APIService|IngressClass)$/.test(
        o.kind,
      );
    const namespace = clusterScoped ? undefined : String(o.metadata.namespace ?? defaultNamespace);
    const shown = mask(o) as Obj;
    if (o.kind === 'Secret')
      for (const key of ['data', 'stringData'])
        if (isObj(shown[key]))
          shown[key] = Object.fromEntries(Object.entries(o[key] as Obj).map(([k, v]) => [k, hide(v)]));
    out.push({
      id: `${o.kind} ${namespace ? `${namespace}/` : ''}${name}`,
      kind: o.kind,
      name,
      ...(namespace ? { namespace } : {}),
      shown,
      keep: o.metadata.annotations?.['helm.sh/resource-policy'] === 'keep',
      secrets: secretValues(o),
    });
  }
  return out;
}

/** An array whose items are objects each with a distinct string `name` (containers, env, ports). */
function byName(a: unknown[]): Map<string, unknown> | null {
  const m = new Map<string, unknown>();
  for (const x of a) {
    if (!isObj(x) || typeof x.name !== 'string' || m.has(x.name)) return null;
    m.set(x.name, x);
  }
  return m;
}

/**
 * Leaf-level differences. Arrays of named items are matched by name (`containers[web].image`), arrays
 * of the same length item by item (`args[1]`); others are compared whole.
 */
export function diffFields(a: unknown, b: unknown, path = ''): FieldChange[] {
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffFields(a[k], b[k], path ? `${path}.${k}` : k));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const [na, nb] = [byName(a), byName(b)];
    if (na && nb) {
      const names = [...new Set([...na.keys(), ...nb.keys()])];
      return names.flatMap((n) => diffFields(na.get(n), nb.get(n), `${path}[${n}]`));
    }
    if (a.length === b.length) return a.flatMap((x, i) => diffFields(x, b[i], `${path}[${i}]`));
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  return [{ path, ...(a !== undefined ? { from: a } : {}), ...(b !== undefined ? { to: b } : {}) }];
}

/**
 * Per object, from the current release's objects to the next ones: created, updated (with the
 * fields), deleted (kept when helm.sh/resource-policy says keep), unchanged. In the next manifest's
 * order, then what goes.
 */
export function diffManifests(current: ManifestObject[], next: ManifestObject[]): ObjectDiff[] {
  const before = new Map(current.map((o) => [o.id, o]));
  const nextIds = new Set(next.map((o) => o.id));
  const out: ObjectDiff[] = next.map((o) => {
    const was = before.get(o.id);
    if (!was) return { object: o.id, action: 'create', changes: [] };
    const changes = diffFields(was.shown, o.shown);
    return { object: o.id, action: changes.length ? 'update' : 'unchanged', changes };
  });
  for (const o of current)
    if (!nextIds.has(o.id)) out.push({ object: o.id, action: o.keep ? 'keep' : 'delete', changes: [] });
  return out;
}

const SIGN = { create: '+', update: '~', delete: '-', unchanged: '=', keep: '!' } as const;

export function short(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function diffLine(d: ObjectDiff): string {
  const what = d.action === 'keep' ? 'kept: helm.sh/resource-policy keep' : d.action;
  return [
    `${SIGN[d.action]} ${d.object} (${what})`,
    ...d.changes.map(
      (c) =>
        `    ${c.path}: ${c.from === undefined ? '(none)' : short(c.from)} -> ${c.to === undefined ? '(removed)' : short(c.to)}`,
    ),
  ].join('\n');
}

export function countLine(diffs: ObjectDiff[]): string {
  const n = (a: ObjectDiff['action']) => diffs.filter((d) => d.action === a).length;
  const parts = [`${n('create')} to create`, `${n('update')} to change`, `${n('delete')} to delete`];
  if (n('keep')) parts.push(`${n('keep')} kept`);
  return `${parts.join(', ')}, ${n('unchanged')} unchanged`;
}
