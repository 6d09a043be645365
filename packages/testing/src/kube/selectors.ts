/** Label and field selectors as kube-apiserver parses them (the common forms). */
type Test = (get: (key: string) => string | undefined) => boolean;

export class SelectorError extends Error {}

export function labelSelector(s: string | null): Test {
  if (!s) return () => true;
  const tests: Test[] = [];
  // split on commas outside parentheses
  for (const term of s
    .split(/,(?![^(]*\))/)
    .map((t) => t.trim())
    .filter(Boolean)) {
    const set = term.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/);
    const eq = term.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/);
    const absent = term.match(/^!([\w./-]+)$/);
    const present = term.match(/^([\w./-]+)$/);
    if (set) {
      const [, key, op, list] = set as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      tests.push((get) => {
        const v = get(key);
        return op === 'in' ? v !== undefined && values.includes(v) : v === undefined || !values.includes(v);
      });
    } else if (eq) {
      const [, key, op, value] = eq as unknown as [string, string, string, string];
      tests.push((get) => (op === '!=' ? get(key) !== value : get(key) === value));
    } else if (absent) {
      const key = absent[1] as string;
      tests.push((get) => get(key) === undefined);
    } else if (present) {
      const key = present[1] as string;
      tests.push((get) => get(key) !== undefined);
    } else throw new SelectorError(`unable to parse requirement: ${term}`);
  }
  return (get) => tests.every((t) => t(get));
}

/** Field selectors: `a.b=c`, `a.b!=c`, comma-separated, any dotted path of the object. */
export function fieldSelector(s: string | null): (obj: unknown) => boolean {
  if (!s) return () => true;
  const tests = s
    .split(',')
    .filter(Boolean)
    .map((term) => {
      const m = term.match(/^([\w.]+)\s*(==|=|!=)\s*(.*)$/);
      if (!m) throw new SelectorError(`invalid field selector: ${term}`);
      const [, path, op, value] = m as unknown as [string, string, string, string];
      return (obj: unknown) => {
        const v = String(pathValue(obj, path) ?? '');
        return op === '!=' ? v !== value : v === value;
      };
    });
  return (obj) => tests.every((t) => t(obj));
}

export function pathValue(obj: unknown, path: string): unknown {
  let cur: any = obj;
  for (const k of path.split('.')) cur = cur?.[k];
  return cur;
}
