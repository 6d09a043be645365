/**
 * The kubeconfig at server start: its context names and current context, read without a YAML
 * parser (the plugin's instances are listed at start; a parser there would cost every session
 * its load time and memory). JSON is parsed as JSON; YAML is read in the block style kubectl,
 * client-go and cloud CLIs write. Anything else is reported as unsupported, never guessed at.
 */
import { homedir } from 'node:os';
import type { K8sConfig } from './config.js';

export function kubeconfigPath(config: Pick<K8sConfig, 'kubeconfig'>): string {
  const p = config.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0] ?? '~/.kube/config';
  return p.startsWith('~/') ? `${homedir()}${p.slice(1)}` : p;
}

export interface ContextNames {
  contexts: string[];
  current?: string;
}

/** What the scan could not follow (line numbers are 1-based), with the current context if it was read. */
export interface Unsupported {
  unsupported: string;
  current?: string;
}

class Unreadable extends Error {}

export function scanContexts(text: string): ContextNames | Unsupported {
  const body = text.replace(/^\uFEFF/, '');
  if (/^\s*\{/.test(body)) return fromJson(body);
  const lines = body.split(/\r?\n/);
  let current: string | undefined;
  let contexts: string[] | undefined;
  let problem: string | undefined;
  // a problem is kept, and the scan goes on: the current context may still be read
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof Unreadable)) throw err;
      problem ??= err.message;
      return undefined;
    }
  };
  let started = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (isBlank(line) || line.startsWith('%')) continue;
    if (/^---(\s|$)/.test(line)) {
      if (started) break; // only the first document counts, as in client-go
      started = true;
      continue;
    }
    if (/^\.\.\.(\s|$)/.test(line)) break;
    started = true;
    if (/^\s/.test(line) || /^-(\s|$)/.test(line)) continue; // inside the previous key's block
    const kv = attempt(() => keyValue(line, i));
    if (kv?.key === 'current-context')
      current = attempt(() => {
        const value = scalar(kv.rest, i);
        expectNoContinuation(lines, i, 0);
        return value;
      });
    else if (kv?.key === 'contexts') contexts = attempt(() => contextBlock(lines, i, kv.rest));
  }
  if (problem) return { unsupported: problem, ...(current ? { current } : {}) };
  return { contexts: contexts ?? [], ...(current ? { current } : {}) };
}

function fromJson(body: string): ContextNames | Unsupported {
  let kc: { contexts?: { name?: unknown }[] | null; 'current-context'?: unknown };
  try {
    kc = JSON.parse(body);
  } catch (err) {
    return { unsupported: `not valid JSON (${(err as Error).message})` };
  }
  const current = typeof kc['current-context'] === 'string' ? kc['current-context'] : undefined;
  const names = (kc.contexts ?? []).map((c) => c?.name);
  if (!names.every((n): n is string => typeof n === 'string'))
    return { unsupported: 'a context without a name', ...(current ? { current } : {}) };
  return { contexts: names, ...(current ? { current } : {}) };
}

/** The names of a top-level `contexts:` sequence starting after line `at`. */
function contextBlock(lines: string[], at: number, rest: string): string[] {
  const inline = stripComment(rest).trim();
  if (inline === '[]' || inline === 'null' || inline === '~') return [];
  if (inline !== '') throw new Unreadable(`line ${at + 1}: contexts in flow style`);
  const names: string[] = [];
  let seqIndent = -1;
  let itemIndent = -1;
  let name: string | undefined;
  let inItem = false;
  const finish = (line: number) => {
    if (!inItem) return;
    if (name === undefined) throw new Unreadable(`line ${line}: a context without a name`);
    names.push(name);
  };
  let i = at + 1;
  for (; i < lines.length; i++) {
    const line = lines[i] as string;
    if (isBlank(line)) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0 && !/^-(\s|$)/.test(line)) break; // the next top-level key, or a document marker
    if (/\t/.test(line.slice(0, indent + 1))) throw new Unreadable(`line ${i + 1}: a tab in the indentation`);
    if (seqIndent < 0) seqIndent = indent;
    const item = line.slice(indent).match(/^-(\s+|$)/);
    if (indent === seqIndent && item) {
      finish(i);
      inItem = true;
      name = undefined;
      const content = line.slice(indent + item[0].length);
      if (isBlank(content)) {
        itemIndent = -1; // the mapping starts on the next line
        continue;
      }
      itemIndent = indent + item[0].length;
      name = itemKey(content, i, name);
      if (name !== undefined) expectNoContinuation(lines, i, itemIndent);
      continue;
    }
    if (!inItem || indent < seqIndent || (indent === seqIndent && !item))
      throw new Unreadable(`line ${i + 1}: contexts is not a list of mappings`);
    if (itemIndent < 0) itemIndent = indent;
    if (indent < itemIndent) throw new Unreadable(`line ${i + 1}: unexpected indentation`);
    if (indent > itemIndent) {
      if (/(^|\s)[&*]\S/.test(line)) throw new Unreadable(`line ${i + 1}: YAML anchors or aliases`);
      continue; // inside `context:`
    }
    const before = name;
    name = itemKey(line.slice(indent), i, name);
    if (name !== before) expectNoContinuation(lines, i, itemIndent);
  }
  finish(i);
  return names;
}

/** One key of a context item: returns the item's name so far (updated when the key is `name`). */
function itemKey(content: string, i: number, name: string | undefined): string | undefined {
  if (/^[{[&*!]/.test(content))
    throw new Unreadable(`line ${i + 1}: a context in flow style or with an anchor`);
  const kv = keyValue(content, i);
  if (kv.key === '<<') throw new Unreadable(`line ${i + 1}: a YAML merge key`);
  if (kv.key !== 'name') return name;
  const value = scalar(kv.rest, i);
  if (value === undefined) throw new Unreadable(`line ${i + 1}: a context name on a line of its own`);
  return value;
}

/** `key: rest` of a mapping line (the key plain or quoted). */
function keyValue(content: string, i: number): { key: string; rest: string } {
  const quoted = content.match(/^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')\s*:(\s|$)/);
  if (quoted) {
    const key = unquote(quoted[1] as string, i);
    return { key, rest: content.slice((quoted[0] as string).length) };
  }
  const plain = content.match(/^([^\s#'"{}[\]&*!|>%@`-][^:#]*?|-[^\s:#][^:#]*?)\s*:(\s|$)/);
  if (!plain) throw new Unreadable(`line ${i + 1}: not a "key: value" line`);
  return { key: plain[1] as string, rest: content.slice((plain[0] as string).length) };
}

/** A scalar value (plain, single- or double-quoted); undefined for an empty value or null. */
function scalar(rest: string, i: number): string | undefined {
  const v = rest.trim();
  if (v === '' || v.startsWith('#')) return undefined;
  if (v.startsWith('"') || v.startsWith("'")) {
    const m = v.match(/^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')\s*(#.*)?$/);
    if (!m) throw new Unreadable(`line ${i + 1}: a quoted value that does not end on its line`);
    return unquote(m[1] as string, i);
  }
  if (/^[&*!|>{[@`%]/.test(v)) throw new Unreadable(`line ${i + 1}: a YAML feature beyond plain values`);
  const plain = stripComment(v).trimEnd();
  return plain === 'null' || plain === '~' ? undefined : plain;
}

function unquote(q: string, i: number): string {
  if (q.startsWith("'")) return q.slice(1, -1).replace(/''/g, "'");
  try {
    return JSON.parse(q) as string;
  } catch {
    throw new Unreadable(`line ${i + 1}: a YAML escape in a double-quoted value`);
  }
}

/** A plain scalar may continue on more-indented lines: refuse rather than read half a name. */
function expectNoContinuation(lines: string[], i: number, indent: number) {
  for (let j = i + 1; j < lines.length; j++) {
    const next = lines[j] as string;
    if (isBlank(next)) continue;
    const nextIndent = next.length - next.trimStart().length;
    if (nextIndent > indent && !(indent === 0 && /^\s*-(\s|$)/.test(next)))
      throw new Unreadable(`line ${j + 1}: a value that continues on the next line`);
    return;
  }
}

function stripComment(v: string): string {
  const hash = v.search(/(^|\s)#/);
  return hash < 0 ? v : v.slice(0, hash);
}

function isBlank(line: string): boolean {
  return /^\s*(#.*)?$/.test(line);
}
