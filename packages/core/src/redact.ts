export const REDACTED = '[REDACTED]';

const SECRET_KEY =
  /(pass(word|wd|phrase)?|secret|token|api[-_]?key|auth(orization)?|credential|private[-_]?key|cookie|session[-_]?key|access[-_]?key|signature|x-amz-security-token|client[-_]?key)$/i;

const PATTERNS: [RegExp, (m: string, ...g: string[]) => string][] = [
  // scheme://user:password@host
  [
    /\b([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi,
    (_m, scheme, user) => `${scheme}${user}:${REDACTED}@`,
  ],
  // token-like query parameters
  [
    /([?&](?:access_token|token|api[-_]?key|apikey|password|secret|sig|signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s#"']+/gi,
    (_m, key) => `${key}${REDACTED}`,
  ],
  // Authorization header values
  [/\b(Bearer|Basic|AWS4-HMAC-SHA256)\s+[A-Za-z0-9._~+/=,:-]{8,}/g, (_m, kind) => `${kind} ${REDACTED}`],
  // AWS access key ids
  [/\b(AKIA|ASIA)[A-Z0-9]{16}\b/g, () => REDACTED],
  // PEM private keys
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, () => REDACTED],
];

/** Redact credential-looking substrings of a string (URL userinfo, token query params, bearer values, keys). */
export function redactString(value: string): string {
  let out = value;
  for (const [re, fn] of PATTERNS) out = out.replace(re, fn as (m: string, ...a: any[]) => string);
  return out;
}

/** True when an object key names a secret (password, token, apiKey, authorization, ...). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.replace(/[^a-z0-9_-]/gi, ''));
}

/**
 * Deep copy with secrets removed: values under secret-looking keys become "[REDACTED]", strings are
 * scrubbed of URL passwords, token parameters, bearer values and key material. `extraSecrets` are
 * literal values (configured passwords, tokens) replaced wherever they appear.
 */
export function redact<T>(value: T, extraSecrets: readonly string[] = []): T {
  const secrets = extraSecrets.filter((s) => s.length >= 4);
  const scrub = (s: string) => {
    let out = redactString(s);
    for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  };
  const walk = (v: unknown, depth: number): unknown => {
    if (depth > 32) return '[…]';
    if (typeof v === 'string') return scrub(v);
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
  return walk(value, 0) as T;
}
