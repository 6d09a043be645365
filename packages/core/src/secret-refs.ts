import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * Secret references. A string option marked `secret()` may hold, instead of the secret itself:
 *   env:NAME      the value of environment variable NAME
 *   file:PATH     a file's contents, trailing newlines trimmed (relative to the config file's directory;
 *                 `file:~/x` and `file:///abs` work too)
 *   enc:v1:...    a value encrypted with AES-256-GCM by `infra-mcp secret encrypt`
 * References are resolved once, when the config is resolved (before validation), for secret options
 * only: a non-secret option that reads `env:X` or `file:...` (a URL, a path) stays as written. A
 * resolved value is not resolved again, so a secret whose literal text starts with `env:`, `file:` or
 * `enc:` is given through a file (`file:PATH`) or a variable (`env:NAME`).
 */

export const SECRET_KEY_ENV = 'INFRA_MCP_SECRET_KEY';
export const SECRET_KEY_FILE_ENV = 'INFRA_MCP_SECRET_KEY_FILE';
const ENC_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Why a reference did not resolve (for `secret decrypt-check` and tests). */
export type SecretRefProblem =
  | 'env-missing'
  | 'file-unreadable'
  | 'file-empty'
  | 'no-key'
  | 'bad-key'
  | 'wrong-key'
  | 'tampered'
  | 'malformed'
  | 'unknown-version';

export class SecretRefError extends Error {
  constructor(
    readonly problem: SecretRefProblem,
    message: string,
  ) {
    super(message);
    this.name = 'SecretRefError';
  }
}

/** A reference as the config showed it, at its path inside one instance's options. */
export interface SecretReference {
  path: string[];
  /** What `infra-mcp config` shows: `env:NAME`, `file:PATH`, or `enc:v1:<key id>:[encrypted]`. */
  shown: string;
}

export interface SecretKey {
  /** 32 bytes. */
  key: Uint8Array;
  /** 8 hex digits naming the key (not secret): stored in every `enc:v1` value to tell a wrong key from tampering. */
  id: string;
  /** Where it came from: `INFRA_MCP_SECRET_KEY` or the key file's path. */
  source: string;
  /** The key file was created by this call. */
  created?: boolean;
}

const REF = /^(env|file|enc):/;

/** Whether a string is written as a secret reference (env:, file:, enc:). */
export function isSecretRef(value: unknown): value is string {
  return typeof value === 'string' && REF.test(value);
}

/** `$INFRA_MCP_SECRET_KEY_FILE`, else `$XDG_CONFIG_HOME/infra-mcp/secret.key` (~/.config/infra-mcp/secret.key). */
export function defaultSecretKeyFile(env: Record<string, string | undefined> = process.env): string {
  if (env[SECRET_KEY_FILE_ENV]) return resolve(env[SECRET_KEY_FILE_ENV]!);
  return join(env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'infra-mcp', 'secret.key');
}

/** A 32-byte key written as 64 hex digits or base64 (44 characters). */
export function parseSecretKey(text: string, source: string): Uint8Array {
  const t = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-f]{64}$/i.test(t)) key = Buffer.from(t, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) key = Buffer.from(t, 'base64');
  if (key?.length !== 32)
    throw new SecretRefError(
      'bad-key',
      `${source}: not a secret key: expected 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)`,
    );
  return new Uint8Array(key as Buffer);
}

function keyId(key: Uint8Array): string {
  return createHash('sha256').update('infra-mcp secret key id\0').update(key).digest('hex').slice(0, 8);
}

/**
 * The key for `enc:` values: `INFRA_MCP_SECRET_KEY`, else the key file. `create` (the encrypt command)
 * makes a missing key file with a new random key, mode 0600 in a 0700 directory.
 */
export function loadSecretKey(
  env: Record<string, string | undefined> = process.env,
  options: { create?: boolean } = {},
): SecretKey {
  const fromEnv = env[SECRET_KEY_ENV];
  if (fromEnv) {
    const key = parseSecretKey(fromEnv, `env ${SECRET_KEY_ENV}`);
    return { key, id: keyId(key), source: `env ${SECRET_KEY_ENV}` };
  }
  const file = defaultSecretKeyFile(env);
  let created = false;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT')
      throw new SecretRefError('no-key', `secret key file ${file} is unreadable: ${reason(err)}`);
    if (!options.create)
      throw new SecretRefError(
        'no-key',
        `no secret key: ${SECRET_KEY_ENV} is not set and ${file} does not exist (set ${SECRET_KEY_ENV} or ${SECRET_KEY_FILE_ENV} to the key the value was encrypted with)`,
      );
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, `${randomBytes(32).toString('base64')}\n`);
      } finally {
        closeSync(fd);
      }
      chmodSync(file, 0o600); // whatever the umask
      created = true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    text = readFileSync(file, 'utf8');
  }
  const key = parseSecretKey(text, file);
  return { key, id: keyId(key), source: file, ...(created ? { created } : {}) };
}

/** Whether the key file can be read by others than its owner (a warning for `secret` commands). */
export function keyFileTooOpen(file: string): boolean {
  try {
    return (statSync(file).mode & 0o077) !== 0;
  } catch {
    return false;
  }
}

/** `enc:v1:<key id>:<base64url(iv | ciphertext | tag)>`, AES-256-GCM with the prefix as associated data. */
export function encryptSecret(value: string, key: SecretKey): string {
  const prefix = `enc:${ENC_VERSION}:${key.id}`;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.from(prefix));
  const body = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return `${prefix}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

const REENCRYPT = `re-encrypt it: infra-mcp secret encrypt < file-with-the-value`;

/** Decrypt an `enc:` value. Throws SecretRefError saying what is wrong (never the value). */
export function decryptSecret(text: string, getKey: () => SecretKey): string {
  const m = /^enc:([^:]*)(?::(.*))?$/s.exec(text);
  const version = m?.[1] ?? '';
  if (version !== ENC_VERSION) {
    throw new SecretRefError(
      /^v\d+$/.test(version) ? 'unknown-version' : 'malformed',
      /^v\d+$/.test(version)
        ? `unknown encryption scheme "enc:${version}" (this build reads enc:${ENC_VERSION}); use the infra-mcp that made it, or ${REENCRYPT}`
        : `not an encrypted value: expected enc:${ENC_VERSION}:<key id>:<data>; ${REENCRYPT}`,
    );
  }
  const parts = /^([0-9a-f]{8}):([A-Za-z0-9_-]+)$/.exec(m?.[2] ?? '');
  const raw = parts ? Buffer.from(parts[2]!, 'base64url') : Buffer.alloc(0);
  if (!parts || raw.length < IV_BYTES + TAG_BYTES)
    throw new SecretRefError(
      'malformed',
      `malformed enc:${ENC_VERSION} value (expected enc:${ENC_VERSION}:<key id>:<data>; truncated or edited?); ${REENCRYPT}`,
    );
  const key = getKey();
  const id = parts[1]!;
  if (id !== key.id) {
    throw new SecretRefError(
      'wrong-key',
      `encrypted with another key (key id ${id}; the key from ${key.source} has id ${key.id}); set ${SECRET_KEY_ENV} or ${SECRET_KEY_FILE_ENV} to the key it was made with, or ${REENCRYPT}`,
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(`enc:${ENC_VERSION}:${id}`));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    throw new SecretRefError(
      'tampered',
      `does not decrypt: the value was altered or damaged (authentication failed with the key from ${key.source}, id ${key.id}); ${REENCRYPT}`,
    );
  }
}

export interface SecretRefContext {
  env: Record<string, string | undefined>;
  /** Directory relative `file:` paths start from (the config file's). */
  baseDir: string;
  /** The key for `enc:` values, loaded at the first one. */
  key: () => SecretKey;
}

/** A context whose key is loaded once, at the first `enc:` value. */
export function secretRefContext(env: Record<string, string | undefined>, baseDir: string): SecretRefContext {
  let key: SecretKey | undefined;
  return { env, baseDir, key: () => (key ??= loadSecretKey(env)) };
}

function reason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const text: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EISDIR: 'it is a directory',
    ENOTDIR: 'a parent is not a directory',
  };
  return e.code ? `${text[e.code] ?? e.code}` : e.message;
}

/** The path a `file:` reference names (file:PATH, file:~/PATH, file:///abs/PATH). */
export function refFilePath(ref: string, baseDir: string): string {
  const spec = ref.slice('file:'.length);
  if (spec.startsWith('//')) return fileURLToPath(ref);
  if (spec === '~' || spec.startsWith('~/')) return join(homedir(), spec.slice(1));
  return isAbsolute(spec) ? spec : resolve(baseDir, spec);
}

/** Resolve one reference; throws SecretRefError (a message without the value). */
export function resolveSecretRef(ref: string, ctx: SecretRefContext): string {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new SecretRefError(
        'malformed',
        `"${ref}" is not an environment variable name; example: env:PROM_PASSWORD`,
      );
    const value = ctx.env[name];
    if (value === undefined || value === '')
      throw new SecretRefError(
        'env-missing',
        `environment variable ${name} is ${value === '' ? 'empty' : 'not set'}`,
      );
    return value;
  }
  if (ref.startsWith('file:')) {
    let path: string;
    try {
      path = refFilePath(ref, ctx.baseDir);
    } catch (err) {
      throw new SecretRefError(
        'malformed',
        `"${ref}" is not a file path or file URL (${(err as Error).message})`,
      );
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new SecretRefError('file-unreadable', `cannot read ${path}: ${reason(err)}`);
    }
    const value = text.replace(/(\r?\n)+$/, '');
    if (value === '') throw new SecretRefError('file-empty', `${path} is empty`);
    return value;
  }
  return decryptSecret(ref, ctx.key);
}

/** What `infra-mcp config` shows for a reference: env: and file: as written, enc: without its data. */
export function showReference(ref: string): string {
  const m = /^enc:(v\d+):([0-9a-f]{8}):/.exec(ref);
  if (m) return `enc:${m[1]}:${m[2]}:[encrypted]`;
  if (ref.startsWith('enc:')) return 'enc:[encrypted]';
  return ref;
}

function isSecretSchema(schema: any): boolean {
  let s = schema;
  for (let i = 0; i < 8 && s; i++) {
    if ((z.globalRegistry.get(s) as { secret?: boolean } | undefined)?.secret) return true;
    s = s._zod?.def?.innerType ?? s._zod?.def?.in;
  }
  return false;
}

function unwrap(schema: any): any {
  let s = schema;
  for (let i = 0; i < 8 && (s?._zod?.def?.innerType || s?._zod?.def?.in); i++)
    s = s._zod.def.innerType ?? s._zod.def.in;
  return s;
}

/**
 * A copy of `value` with every reference in a secret option resolved (the input is not changed).
 * `where` names the options for errors (`infra-mcp.yaml: "plugins.prometheus`); each resolved
 * reference is recorded in `refs` with its path.
 * Throws SecretRefError-derived messages through `fail(path, err)`.
 */
export function resolveSecretRefs(
  schema: z.ZodType | undefined,
  value: unknown,
  ctx: SecretRefContext,
  refs: SecretReference[] = [],
  fail: (path: string[], ref: string, err: SecretRefError) => never = (path, ref, err) => {
    throw new SecretRefError(err.problem, `${path.join('.')}: ${showReference(ref)}: ${err.message}`);
  },
  path: string[] = [],
): unknown {
  if (!schema) return value;
  if (typeof value === 'string') {
    if (!isSecretRef(value) || !isSecretSchema(schema)) return value;
    try {
      const resolved = resolveSecretRef(value, ctx);
      refs.push({ path, shown: showReference(value) });
      return resolved;
    } catch (err) {
      if (err instanceof SecretRefError) return fail(path, value, err);
      throw err;
    }
  }
  const s = unwrap(schema);
  const type = s?._zod?.def?.type;
  if (Array.isArray(value)) {
    if (type !== 'array') return value;
    return value.map((v, i) =>
      resolveSecretRefs(s._zod.def.element, v, ctx, refs, fail, [...path, String(i)]),
    );
  }
  if (value && typeof value === 'object' && (type === 'object' || type === 'record')) {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const field = type === 'object' ? s._zod.def.shape[k] : s._zod.def.valueType;
      const next = resolveSecretRefs(field, v, ctx, refs, fail, [...path, k]);
      if (next === v) continue;
      out ??= { ...(value as object) };
      out[k] = next;
    }
    return out ?? value;
  }
  return value;
}

/** Put the references back where `infra-mcp config` shows an instance's options (in place). */
export function showReferences(options: unknown, refs: readonly SecretReference[] = []): void {
  for (const { path, shown } of refs) {
    let o = options as Record<string, unknown> | undefined;
    for (const k of path.slice(0, -1)) o = o?.[k] as Record<string, unknown> | undefined;
    const last = path[path.length - 1];
    if (o && typeof o === 'object' && last !== undefined && last in o) o[last] = shown;
  }
}
