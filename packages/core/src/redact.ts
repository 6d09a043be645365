export const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /(pass(word|wd|phrase)?|secret|token|api[-_]?key|auth(orization)?|credential|private[-_]?key|cookie|session[-_]?key|access[-_]?key|signature|x-amz-security-token|client[-_]?key)$/i;

/** [pattern, replacement, a literal every match contains (a cheap test before the regex runs)] */
const PATTERNS: [RegExp, (m: string, ...g: string[]) => string, string[]][] = [
  // scheme://user:password@host
  [
    /\b([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi,
    (_m, scheme, user) => `${scheme}${user}:${REDACTED}@`,
    ['://'],
  ],
  // token-like query parameters
  [
    /([?&](?:access_token|token|api[-_]?key|apikey|password|secret|sig|signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s#"']+/gi,
    (_m, key) => `${key}${REDACTED}`,
    ['='],
  ],
  // Authorization header values
  [
    /\b(Bearer|Basic|AWS4-HMAC-SHA256)\s+[A-Za-z0-9._~+/=,:-]{8,}/g,
    (_m, kind) => `${kind} ${REDACTED}`,
    ['Bearer', 'Basic', 'AWS4-HMAC-SHA256'],
  ],
  // AWS access key ids
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, () => REDACTED, ['AKIA', 'ASIA']],
  // PEM private keys
  [
    /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
    () => REDACTED,
    ['-----BEGIN'],
  ],
];

/** Shortest literal secret that is replaced (shorter values would redact ordinary words). */
export const MIN_SECRET_LENGTH = 4;

/** Redact credential-looking substrings of a string (URL userinfo, token query params, bearer values, keys). */
export function redactString(value: string): string {
  let out = value;
  for (const [re, fn, needles] of PATTERNS)
    if (needles.some((n) => out.includes(n))) out = out.replace(re, fn as (m: string, ...a: any[]) => string);
  return out;
}

/** True when an object key names a secret (password, token, apiKey, authorization, ...). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.replace(/[^a-z0-9_-]/gi, ''));
}

/**
 * The forms a literal secret takes in text: as is, JSON-escaped (a backend's JSON error body) and
 * HTML-escaped the way Go's encoding/json writes `<`, `>` and `&`.
 */
function variants(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const go = json.replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
  return [...new Set([secret, json, go])];
}

/**
 * Replace known literal values, longest first (so a secret containing another goes whole), then the
 * credential patterns. Literals go first: a URL password with an unencoded `@` would otherwise be
 * cut in two by the URL pattern and half of it would survive.
 */
export function scrubText(text: string, secrets: readonly string[] = []): string {
  return scrubWith(text, literalForms(secrets));
}

/** The literal forms to replace, longest first. */
function literalForms(secrets: readonly string[]): string[] {
  if (secrets.length === 0) return [];
  const forms = new Set<string>();
  for (const s of secrets) if (s.length >= MIN_SECRET_LENGTH) for (const f of variants(s)) forms.add(f);
  return [...forms].sort((a, b) => b.length - a.length);
}

function scrubWith(text: string, forms: readonly string[]): string {
  let out = text;
  for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  return redactString(out);
}

/**
 * Redact first, then cut: `text` scrubbed of `secrets` and credential patterns, then cut to `max`
 * characters (with "…"). Cutting first would leave the head of a secret the scrubber no longer
 * recognises.
 */
export function redactThenCut(text: string, max: number, secrets: readonly string[] = []): string {
  const out = scrubText(text, secrets);
  return out.length > max ? `${out.slice(0, Math.max(0, max - 1))}…` : out;
}

// ---------------------------------------------------------------------------------------------
// Path rules: a plugin names where secrets live in its values (`data.*`, `env[name=/PASSWORD/].value`)

interface PathSegment {
  /** Object key to match; '*' matches any key or array index. */
  key: string;
  /** Only children that are objects whose `field` is a string matching `re`. */
  where?: { field: string; re: RegExp };
}

/** A compiled path rule. */
export type PathRule = readonly PathSegment[];

/**
 * Compile a path rule. Grammar: segments joined by `.`; a segment is a key, `*` (any key or array
 * index), or `key[field=/regex/flags]` (the elements of the array or object under `key` whose
 * `field` matches). A rule matches at any depth: `data.*` redacts every value under any `data` key.
 */
export function compilePath(path: string): PathRule {
  const segments: PathSegment[] = [];
  const re = /([^.[\]]+)?(?:\[([^=\]]+)=\/((?:\\.|[^/\\])*)\/([a-z]*)\])?(?:\.|$)/gy;
  let pos = 0;
  while (pos < path.length) {
    re.lastIndex = pos;
    const m = re.exec(path);
    if (!m || m[0] === '' || (!m[1] && !m[2]))
      throw new Error(
        `redaction path "${path}" is not readable at character ${pos + 1}; use keys, *, and key[field=/regex/] joined by dots, e.g. env[name=/PASSWORD/].value`,
      );
    if (m[1]) segments.push({ key: m[1] });
    if (m[2]) segments.push({ key: '*', where: { field: m[2], re: new RegExp(m[3]!, m[4]) } });
    pos = re.lastIndex;
  }
  if (segments.length === 0) throw new Error('a redaction path may not be empty');
  return segments;
}

const RULES = Symbol.for('infra-mcp.redactionRules');
/** Most values a secret list learns from path rules (values seen under a redacted path). */
const MAX_LEARNED = 1000;
/** Shortest value under a redacted path that is then also scrubbed from all text. */
const MIN_LEARNED_LENGTH = 8;

interface RulesHolder {
  [RULES]?: { paths: PathRule[]; learned: number };
}

/**
 * A list of literal secret values that also carries a plugin's path rules. `redact(value, list)`
 * applies both; string values found under a redacted path are added to the list (up to 1000), so
 * text that repeats them later (a rendering, an error) is scrubbed too. The list is live: values
 * pushed after creation (learned at setup) count from then on.
 */
export function secretList(
  values: Iterable<string> = [],
  paths: readonly (string | PathRule)[] = [],
): string[] {
  const list = [...values] as string[] & RulesHolder;
  const compiled = paths.map((p) => (typeof p === 'string' ? compilePath(p) : p));
  if (compiled.length > 0) Object.defineProperty(list, RULES, { value: { paths: compiled, learned: 0 } });
  return list;
}

function rulesOf(list: readonly string[]): { paths: PathRule[]; learned: number } | undefined {
  return (list as RulesHolder)[RULES];
}

/** Add a literal secret to a list (ignored when too short to scrub safely or already there). */
export function addSecret(list: string[], value: unknown): void {
  if (typeof value !== 'string') return;
  const v = value.trim();
  if (v.length >= MIN_SECRET_LENGTH && !list.includes(v)) list.push(v);
  if (v !== value && value.length >= MIN_SECRET_LENGTH && !list.includes(value)) list.push(value);
}

type State = readonly [rule: PathRule, index: number];

function matchSegment(seg: PathSegment, key: string, child: unknown): boolean {
  if (seg.key !== '*' && seg.key !== key) return false;
  if (!seg.where) return true;
  if (!child || typeof child !== 'object') return false;
  const v = (child as Record<string, unknown>)[seg.where.field];
  return typeof v === 'string' && seg.where.re.test(v);
}

/**
 * Deep copy with secrets removed: values under secret-looking keys become "[REDACTED]", strings are
 * scrubbed of the literal `extraSecrets` (configured passwords, tokens: replaced first, wherever they
 * appear) and then of URL passwords, token parameters, bearer values and key material. When the list
 * carries path rules (`secretList`), values at those paths are redacted as well.
 */
export function redact<T>(value: T, extraSecrets: readonly string[] = []): T {
  const rules = rulesOf(extraSecrets);
  const list = extraSecrets as string[];
  const learn = (s: string) => {
    if (!rules || s.length < MIN_LEARNED_LENGTH || s === REDACTED || rules.learned >= MAX_LEARNED) return;
    if (!list.includes(s)) {
      list.push(s);
      rules.learned++;
    }
  };
  // all of it: every scalar below a matched path
  const wipe = (v: unknown, depth: number): unknown => {
    if (depth > 32) return '[…]';
    if (typeof v === 'string') {
      learn(v);
      return v === '' ? v : REDACTED;
    }
    if (typeof v === 'number' || typeof v === 'bigint') return REDACTED;
    if (Array.isArray(v)) return v.map((x) => wipe(x, depth + 1));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wipe(x, depth + 1)]));
    return v;
  };
  const advance = (states: readonly State[], key: string, child: unknown): [State[], boolean] => {
    const next: State[] = [];
    let hit = false;
    for (const [rule, i] of states) {
      if (!matchSegment(rule[i]!, key, child)) continue;
      if (i + 1 === rule.length) hit = true;
      else next.push([rule, i + 1]);
    }
    return [next, hit];
  };
  const fresh: State[] = rules ? rules.paths.map((r) => [r, 0] as const) : [];
  // path rules first (they may learn values), then the text of everything else
  const mark = (v: unknown, states: readonly State[], depth: number): unknown => {
    if (depth > 32) return '[…]';
    const all = states.length > 0 ? [...fresh, ...states] : fresh;
    if (Array.isArray(v)) {
      return v.map((x, i) => {
        const [next, hit] = advance(all, String(i), x);
        return hit ? wipe(x, depth + 1) : mark(x, next, depth + 1);
      });
    }
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const [next, hit] = advance(all, k, x);
        out[k] = hit ? wipe(x, depth + 1) : mark(x, next, depth + 1);
      }
      return out;
    }
    return v;
  };
  const marked = rules && value && typeof value === 'object' ? mark(value, [], 0) : value;
  const forms = literalForms(extraSecrets);
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 32) return '[…]';
    if (typeof v === 'string') return scrubWith(v, forms);
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        out[k] =
          isSecretKey(k) && (typeof x === 'string' || typeof x === 'number') && x !== ''
            ? REDACTED
            : walk(x, depth + 1);
      }
      return out;
    }
    return v;
  };
  return walk(marked, 0) as T;
}
