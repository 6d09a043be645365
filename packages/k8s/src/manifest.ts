import { createHash } from 'node:crypto';
import { ToolError } from '@infra-mcp/core';
import type { Obj } from './client.js';
import { loadYaml } from './yaml.js';

/** The documents of a multi-document YAML (or JSON) manifest; a syntax error names its line and column. */
export async function parseManifest(text: string): Promise<Obj[]> {
  const docs = (await loadYaml()).parseAllDocuments(text, { prettyErrors: true });
  const out: Obj[] = [];
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      throw new ToolError(
        'invalid_manifest',
        `document ${i + 1}: ${err.message.split('\n')[0]}${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}`,
        'fix the YAML; nothing was applied',
        { document: i + 1, ...(pos ? { line: pos.line, column: pos.col } : {}) },
      );
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const items =
      isObj(value) && Array.isArray(value.items) && /List$/.test(String(value.kind)) ? value.items : [value];
    for (const o of items) {
      if (
        !isObj(o) ||
        typeof o.apiVersion !== 'string' ||
        typeof o.kind !== 'string' ||
        typeof o.metadata?.name !== 'string'
      )
        throw new ToolError(
          'invalid_manifest',
          `document ${i + 1} needs apiVersion, kind and metadata.name`,
          'fix the document; nothing was applied',
          { document: i + 1 },
        );
      out.push(o);
    }
  }
  if (out.length === 0)
    throw new ToolError('invalid_manifest', 'the manifest holds no objects', 'pass YAML or JSON objects');
  return out;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const CREDENTIAL = /pass(word|wd)?|secret|token|api_?key|credential|private_?key/i;

/** Secret values inside an object (Secret data/stringData, credential-like env values), to hand to ctx.secret. */
export function secretValues(o: Obj): string[] {
  const out: string[] = [];
  if (o.kind === 'Secret')
    for (const key of ['data', 'stringData'])
      if (isObj(o[key]))
        for (const v of Object.values(o[key])) {
          out.push(String(v));
          // data values are base64: the decoded value is as secret
          if (key === 'data') out.push(Buffer.from(String(v), 'base64').toString('utf8'));
        }
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObj(v))
      for (const [k, x] of Object.entries(v)) {
        if (k === 'env' && Array.isArray(x))
          for (const e of x)
            if (
              isObj(e) &&
              typeof e.name === 'string' &&
              CREDENTIAL.test(e.name) &&
              typeof e.value === 'string'
            )
              out.push(e.value);
        walk(x);
      }
  };
  walk(o);
  return out;
}

/**
 * A copy safe to diff and show: Secret `data`/`stringData` values and literal env values with
 * credential-like names become `(hidden sha256:<8 hex>)`, so a diff says "changed" without the value.
 */
export function maskSecrets(o: Obj): Obj {
  const hide = (v: unknown) =>
    `(hidden sha256:${createHash('sha256').update(String(v)).digest('hex').slice(0, 8)})`;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObj(v)) return v;
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'env' && Array.isArray(x))
        out[k] = x.map((e) =>
          isObj(e) && typeof e.name === 'string' && CREDENTIAL.test(e.name) && e.value !== undefined
            ? { ...e, value: hide(e.value) }
            : walk(e),
        );
      else out[k] = walk(x);
    }
    return out;
  };
  const copy = walk(o) as Obj;
  if (o.kind === 'Secret')
    for (const key of ['data', 'stringData'])
      if (isObj(copy[key]))
        copy[key] = Object.fromEntries(Object.entries(copy[key]).map(([k, v]) => [k, hide(v)]));
  return copy;
}

export interface Change {
  path: string;
  from?: unknown;
  to?: unknown;
}

const IGNORED = new Set([
  'metadata.resourceVersion',
  'metadata.generation',
  'metadata.managedFields',
  'metadata.uid',
  'metadata.creationTimestamp',
  'status',
]);

/** Leaf-level differences between two objects (arrays compared whole). */
export function diffObjects(a: unknown, b: unknown, path = ''): Change[] {
  if (IGNORED.has(path)) return [];
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffObjects(a[k], b[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  return [{ path, ...(a !== undefined ? { from: a } : {}), ...(b !== undefined ? { to: b } : {}) }];
}

export function short(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
