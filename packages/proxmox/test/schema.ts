/**
 * The PVE API schema (test/fixtures/apidata.json, see fixtures/README.md) as the contract of the
 * fake and of the plugin: which (method, path) pairs exist, which parameters they take, and what
 * they return (PVE's JSON-schema dialect: `optional: 1`, 0/1 booleans, indexed keys like `net[n]`).
 */
import { readFileSync } from 'node:fs';

interface MethodInfo {
  name: string;
  parameters?: { properties?: Record<string, Prop> };
  returns?: Prop;
}
export interface Prop {
  type?: string;
  optional?: number;
  properties?: Record<string, Prop>;
  items?: Prop;
  enum?: string[];
  additionalProperties?: number | boolean;
}

const FILE = new URL('./fixtures/apidata.json', import.meta.url);
const methods = new Map<string, Record<string, MethodInfo>>();
const walk = (nodes: any[]) => {
  for (const n of nodes) {
    if (n.info) methods.set(n.path, n.info);
    if (n.children) walk(n.children);
  }
};
walk(JSON.parse(readFileSync(FILE, 'utf8')));
const templates = [...methods.keys()].map((t) => ({ t, segs: t.split('/').slice(1) }));

export const schemaSize = () => ({ paths: methods.size });

export interface Match {
  template: string;
  info: MethodInfo;
  pathParams: Record<string, string>;
}

/** The schema entry for a request path below /api2/json (decoded segments), or undefined. */
export function match(method: string, path: string): Match | undefined {
  const segs = path.split('/').slice(1).map(decodeURIComponent);
  let best: { t: string; literal: number; params: Record<string, string> } | undefined;
  for (const { t, segs: ts } of templates) {
    if (ts.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let literal = 0;
    let ok = true;
    for (let i = 0; i < ts.length; i++) {
      const m = /^\{(.+)\}$/.exec(ts[i]!);
      if (m) params[m[1]!] = segs[i]!;
      else if (ts[i] === segs[i]) literal++;
      else {
        ok = false;
        break;
      }
    }
    if (ok && (!best || literal > best.literal)) best = { t, literal, params };
  }
  const info = best && methods.get(best.t)?.[method];
  return best && info ? { template: best.t, info, pathParams: best.params } : undefined;
}

function declared(props: Record<string, Prop>, name: string): Prop | undefined {
  if (props[name]) return props[name];
  const m = /^(.*?)(\d+)$/.exec(name);
  return m ? props[`${m[1]}[n]`] : undefined;
}

function checkValue(p: Prop, v: string | string[], name: string): string[] {
  const one = (x: string) => {
    if (p.type === 'integer' && !/^-?\d+$/.test(x)) return `${name}=${x} is not an integer`;
    if (p.type === 'boolean' && !/^(0|1)$/.test(x)) return `${name}=${x} is not a 0/1 boolean`;
    if (p.enum && !p.enum.includes(x)) return `${name}=${x} is not one of ${p.enum.join(',')}`;
    return undefined;
  };
  if (Array.isArray(v)) {
    if (p.type !== 'array') return [`${name} sent ${v.length} times but is not an array`];
    return v
      .map((x) => (p.items ? checkValue(p.items, x, name)[0] : undefined))
      .filter((x): x is string => !!x);
  }
  if (p.type === 'array') return p.items ? checkValue(p.items, v, name) : [];
  const e = one(v);
  return e ? [e] : [];
}

/** Problems of a request against the schema: undeclared path or method, unknown, missing or ill-typed parameters. */
export function checkRequest(
  method: string,
  path: string,
  params: Record<string, string | string[]>,
): string[] {
  const m = match(method, path);
  if (!m) return [`${method} ${path} is not in the PVE API schema`];
  const props = m.info.parameters?.properties ?? {};
  const problems: string[] = [];
  const all = { ...params, ...m.pathParams };
  for (const [k, v] of Object.entries(all)) {
    const p = declared(props, k);
    if (!p) problems.push(`${method} ${m.template}: unknown parameter ${k}`);
    else problems.push(...checkValue(p, v, k).map((e) => `${method} ${m.template}: ${e}`));
  }
  for (const [k, p] of Object.entries(props))
    if (!p.optional && !k.includes('[n]') && !(k in all))
      problems.push(`${method} ${m.template}: missing required ${k}`);
  return problems;
}

/** Problems of a value against a `returns` schema (only what is declared is checked). */
export function checkReturns(p: Prop | undefined, v: unknown, at = '$'): string[] {
  if (!p || p.type === undefined) return [];
  if (v === null || v === undefined)
    return p.type === 'null' || p.optional ? [] : [`${at}: missing (${p.type})`];
  switch (p.type) {
    case 'null':
      return [`${at}: expected null`];
    case 'string':
      if (typeof v !== 'string') return [`${at}: expected string, got ${typeof v}`];
      return p.enum && !p.enum.includes(v) ? [`${at}: ${v} not in ${p.enum.join(',')}`] : [];
    case 'integer':
      return Number.isInteger(v) ? [] : [`${at}: expected integer, got ${JSON.stringify(v)}`];
    case 'number':
      return typeof v === 'number' ? [] : [`${at}: expected number, got ${typeof v}`];
    case 'boolean':
      return typeof v === 'boolean' || v === 0 || v === 1
        ? []
        : [`${at}: expected boolean, got ${JSON.stringify(v)}`];
    case 'array':
      if (!Array.isArray(v)) return [`${at}: expected array`];
      return v.flatMap((x, i) => checkReturns(p.items, x, `${at}[${i}]`));
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) return [`${at}: expected object`];
      const o = v as Record<string, unknown>;
      return Object.entries(p.properties ?? {}).flatMap(([k, sp]) =>
        o[k] === undefined
          ? sp.optional
            ? []
            : [`${at}.${k}: missing`]
          : checkReturns(sp, o[k], `${at}.${k}`),
      );
    }
    default:
      return [];
  }
}

export function returnsOf(method: string, path: string): Prop | undefined {
  return match(method, path)?.info.returns;
}
