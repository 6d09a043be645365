import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  decryptSecret,
  encryptSecret,
  loadSecretKey,
  resolvePluginConfig,
  resolveSecretRefs,
  type SecretRefError,
  type SecretReference,
  secret,
  secretRefContext,
} from '../src/index.js';
import { PluginRuntime } from '../src/runtime.js';
import { kv } from './fixture-plugin.js';

const dir = mkdtempSync(join(tmpdir(), 'infra-mcp-refs-'));
const KEY = randomBytes(32).toString('base64');
const key = () => loadSecretKey({ INFRA_MCP_SECRET_KEY: KEY });
const resolve = (file: Record<string, unknown>, env: Record<string, string> = {}) =>
  resolvePluginConfig(kv(), {
    file: { url: 'http://kv.local', ...file },
    fileName: join(dir, 'infra-mcp.yaml'),
    env: { INFRA_MCP_SECRET_KEY: KEY, ...env },
  });
const problem = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('did not throw');
};

describe('secret references', () => {
  it('env:NAME resolves a secret option and joins the scrub list; config shows the reference', () => {
    const r = resolve({ password: 'env:KV_PW_REF' }, { KV_PW_REF: 'pw-from-env-123' });
    expect(r.instances.default!.password).toBe('pw-from-env-123');
    expect(r.secrets).toContain('pw-from-env-123');
    expect(r.references).toEqual({ default: [{ path: ['password'], shown: 'env:KV_PW_REF' }] });
    const rt = new PluginRuntime(kv(), r, console as never);
    expect(rt.redactedConfig().default).toMatchObject({ password: 'env:KV_PW_REF' });
  });

  it('file:PATH is read relative to the config file, trailing newline trimmed', () => {
    writeFileSync(join(dir, 'pw.txt'), 'pw-from-file-456\n');
    expect(resolve({ password: 'file:pw.txt' }).instances.default!.password).toBe('pw-from-file-456');
    expect(resolve({ password: `file://${join(dir, 'pw.txt')}` }).instances.default!.password).toBe(
      'pw-from-file-456',
    );
  });

  it('enc:v1 decrypts with the key; the value never shows in config', () => {
    const enc = encryptSecret('pw-encrypted-789', key());
    expect(enc).toMatch(/^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
    const r = resolve({ password: enc });
    expect(r.instances.default!.password).toBe('pw-encrypted-789');
    const rt = new PluginRuntime(kv(), r, console as never);
    const shown = JSON.stringify(rt.redactedConfig());
    expect(shown).toContain(`enc:v1:${key().id}:[encrypted]`);
    expect(shown).not.toContain(enc.split(':')[3]);
  });

  it('a non-secret option keeps env:/file: literally (a URL may start with file:)', () => {
    expect(resolve({ url: 'env:KV_URL_REF' }, { KV_URL_REF: 'http://other' }).instances.default!.url).toBe(
      'env:KV_URL_REF',
    );
    const r = resolve({ url: 'file:///srv/kv' });
    expect(r.instances.default!.url).toBe('file:///srv/kv');
    expect(r.references).toBeUndefined();
  });

  it('a resolved value is not resolved again', () => {
    const r = resolve({ password: 'env:A_REF' }, { A_REF: 'env:B_REF', B_REF: 'nope' });
    expect(r.instances.default!.password).toBe('env:B_REF');
  });

  it('errors name the option and the problem, never the value', () => {
    expect(() => resolve({ password: 'env:KV_MISSING' })).toThrow(ConfigError);
    expect(problem(() => resolve({ password: 'env:KV_MISSING' })).message).toBe(
      `${join(dir, 'infra-mcp.yaml')}: "plugins.kv.password": env:KV_MISSING: environment variable KV_MISSING is not set`,
    );
    expect(problem(() => resolve({ password: 'file:nope.txt' })).message).toContain(
      `"plugins.kv.password": file:nope.txt: cannot read ${join(dir, 'nope.txt')}: no such file`,
    );
    expect(problem(() => resolve({ password: 'file:.' })).message).toMatch(/it is a directory/);
    expect(problem(() => resolve({ password: 'enc:v9:abcd' })).message).toMatch(
      /"plugins.kv.password": .*unknown encryption scheme "enc:v9" \(this build reads enc:v1\)/,
    );
    const enc = encryptSecret('pw-secret-wrongkey', key());
    const other = randomBytes(32).toString('hex');
    const wrong = problem(() => resolve({ password: enc }, { INFRA_MCP_SECRET_KEY: other })).message;
    expect(wrong).toMatch(
      /"plugins.kv.password": .*encrypted with another key .*re-encrypt it: infra-mcp secret encrypt/,
    );
    expect(wrong).not.toContain('pw-secret-wrongkey');
    const noKey = problem(() =>
      resolvePluginConfig(kv(), {
        file: { url: 'http://kv.local', password: enc },
        env: { XDG_CONFIG_HOME: join(dir, 'nowhere') },
      }),
    ).message;
    expect(noKey).toMatch(/no secret key: INFRA_MCP_SECRET_KEY is not set and .*secret.key does not exist/);
  });

  it('a tampered ciphertext fails authentication, saying so', () => {
    const enc = encryptSecret('pw-secret-tampered', key());
    const i = enc.length - 20;
    const tampered = `${enc.slice(0, i)}${enc[i] === 'A' ? 'B' : 'A'}${enc.slice(i + 1)}`;
    const err = problem(() => decryptSecret(tampered, key)) as SecretRefError;
    expect(err.problem).toBe('tampered');
    expect(err.message).toMatch(/altered or damaged/);
    expect(problem(() => resolve({ password: tampered })).message).toMatch(
      /"plugins.kv.password": enc:v1:[0-9a-f]{8}:\[encrypted\]: does not decrypt: the value was altered/,
    );
    // the key id is bound too: moving a value to another id is tampering as well
    expect(
      (problem(() => decryptSecret(enc.replace(/^enc:v1:/, 'enc:v2:'), key)) as SecretRefError).problem,
    ).toBe('unknown-version');
    expect((problem(() => decryptSecret(enc.slice(0, 30), key)) as SecretRefError).problem).toBe('malformed');
  });

  it('the encrypt key file is created 0600 in a 0700 directory, and reused', () => {
    const env = { XDG_CONFIG_HOME: join(dir, 'cfg') };
    const k = loadSecretKey(env, { create: true });
    expect(k.created).toBe(true);
    expect(statSync(k.source).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'cfg', 'infra-mcp')).mode & 0o777).toBe(0o700);
    const again = loadSecretKey(env, { create: true });
    expect(again.created).toBeUndefined();
    expect(again.id).toBe(k.id);
    expect(decryptSecret(encryptSecret('x-value', k), () => again)).toBe('x-value');
  });

  it('finds secret options in records, nested objects and arrays (optional, default, refine)', () => {
    const schema = z.object({
      headers: z.record(z.string(), secret(z.string())).default({}),
      auth: z
        .object({ user: z.string(), password: secret(z.string()) })
        .refine(() => true)
        .optional(),
      tokens: z.array(secret(z.string())).optional(),
      note: z.string().optional(),
    });
    const refs: SecretReference[] = [];
    const env = { H: 'header-secret', P: 'password-secret', T: 'token-secret', N: 'note' };
    const given = {
      headers: { 'X-Key': 'env:H' },
      auth: { user: 'env:N', password: 'env:P' },
      tokens: ['env:T', 'plain-token'],
      note: 'env:N',
    };
    const out = resolveSecretRefs(schema, given, secretRefContext(env, dir), refs);
    expect(out).toEqual({
      headers: { 'X-Key': 'header-secret' },
      auth: { user: 'env:N', password: 'password-secret' },
      tokens: ['token-secret', 'plain-token'],
      note: 'env:N',
    });
    expect(given.headers['X-Key']).toBe('env:H'); // the input is not changed
    expect(refs.map((r) => r.path.join('.'))).toEqual(['headers.X-Key', 'auth.password', 'tokens.0']);
  });

  it('INFRA_MCP_SECRET_KEY_FILE names the key file', () => {
    const file = join(dir, 'my.key');
    writeFileSync(file, `${'cd'.repeat(32)}\n`);
    const k = loadSecretKey({ INFRA_MCP_SECRET_KEY_FILE: file });
    expect(k.source).toBe(file);
    expect(Buffer.from(k.key).equals(Buffer.from('cd'.repeat(32), 'hex'))).toBe(true);
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(() => loadSecretKey({ INFRA_MCP_SECRET_KEY: 'short' })).toThrow(
      /not a secret key: expected 32 bytes/,
    );
    expect(loadSecretKey({ INFRA_MCP_SECRET_KEY: 'ab'.repeat(32) }).key.length).toBe(32);
  });
});
