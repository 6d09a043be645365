/**
 * Secret references end to end through the built CLI: a Prometheus instance per scheme (env:, file:,
 * enc:) with `basicAuth.password` given as a reference, against a loopback fake that answers 401
 * unless the Authorization header carries the real password. Also the start errors, a tampered
 * ciphertext, `infra-mcp secret encrypt` / `decrypt-check`, the key file's mode, and that the
 * password never shows in `config`, `doctor`, a call or stderr.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './cli-helpers.js';
import { cliPath, requireBuilt } from './helpers/app-process.js';

const USER = 'promuser';
const PASSWORD = 'Rf7q2Lx9Vb4Nw8Kz'; // the real one, given only by reference
const b64 = (s: string) => Buffer.from(s).toString('base64');

let backend: http.Server;
let base: string;
let dir: string;
let enc: string;
const auth: string[] = [];

/** The first 8-character window of the password (or its basic form) in `text`. */
function leak(text: string): string | undefined {
  for (const secret of [PASSWORD, b64(`${USER}:${PASSWORD}`)])
    for (let i = 0; i + 8 <= secret.length; i++)
      if (text.includes(secret.slice(i, i + 8))) return secret.slice(i, i + 8);
  return undefined;
}

const env = (extra: Record<string, string> = {}) => ({
  HOME: dir,
  XDG_CONFIG_HOME: join(dir, 'cfg'),
  INFRA_MCP_AUDIT_FILE: join(dir, 'audit.jsonl'),
  PROM_PASSWORD: PASSWORD,
  ...extra,
});

async function config(name: string, password: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(
    file,
    `plugins:\n  prometheus:\n    url: "${base}"\n    basicAuth: { username: ${USER}, password: "${password}" }\n`,
  );
  return file;
}

beforeAll(async () => {
  requireBuilt(cliPath);
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-refs-'));
  backend = http.createServer((req, res) => {
    auth.push(String(req.headers.authorization));
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization !== `Basic ${b64(`${USER}:${PASSWORD}`)}`) {
      res.writeHead(401);
      return res.end(
        JSON.stringify({ status: 'error', errorType: 'unauthorized', error: 'bad credentials' }),
      );
    }
    const path = new URL(req.url!, 'http://x').pathname;
    if (path.endsWith('/status/buildinfo'))
      return res.end(JSON.stringify({ status: 'success', data: { version: '3.0.0' } }));
    res.end(
      JSON.stringify({
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: { __name__: 'up' }, value: [1, '1'] }] },
      }),
    );
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(backend.address() as AddressInfo).port}/`;
  await writeFile(join(dir, 'prom-password'), `${PASSWORD}\n`);
  const r = await run(['secret', 'encrypt'], { env: env(), input: `${PASSWORD}\n` });
  expect(r.code, r.stderr).toBe(0);
  enc = r.stdout.trim();
  expect(r.stderr).toMatch(/created the secret key file .*secret\.key \(mode 0600\)/);
});

afterAll(async () => {
  await new Promise<void>((r) => backend?.close(() => r()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('secret references through the app', () => {
  it('secret encrypt prints enc:v1, creates the key file 0600, and decrypt-check says ok without the value', async () => {
    expect(enc).toMatch(/^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
    expect(leak(enc)).toBeUndefined();
    const keyFile = join(dir, 'cfg', 'infra-mcp', 'secret.key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const ok = await run(['secret', 'decrypt-check', enc], { env: env() });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok: decrypts with the key from .*secret\.key/);
    expect(leak(ok.stdout + ok.stderr)).toBeUndefined();
    const withValue = await run(['secret', 'encrypt', '--value', PASSWORD], { env: env() });
    expect(withValue.code).toBe(0);
    expect(withValue.stderr).toMatch(/warning: --value puts the secret in your shell history/);
    const check = await run(['secret', 'decrypt-check', withValue.stdout.trim()], { env: env() });
    expect(check.code, check.stderr).toBe(0);
  });

  for (const scheme of ['env', 'file', 'enc'] as const) {
    it(`${scheme}: the backend gets the real password; config shows the reference; nothing leaks`, async () => {
      const ref = { env: 'env:PROM_PASSWORD', file: 'file:prom-password', enc }[scheme];
      const file = await config(`${scheme}.yaml`, ref);
      auth.length = 0;
      const doctor = await run(['doctor', '--config', file], { env: env() });
      expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
      expect(doctor.stdout).toMatch(/prometheus\s+default\s+ok/);
      const call = await run(['call', 'prometheus_query', '{"query":"up"}', '--config', file], {
        env: env(),
      });
      expect(call.code, call.stdout + call.stderr).toBe(0);
      expect(auth.length).toBeGreaterThan(0);
      expect(new Set(auth)).toEqual(new Set([`Basic ${b64(`${USER}:${PASSWORD}`)}`]));
      const cfg = await run(['config', '--config', file], { env: env() });
      expect(cfg.code, cfg.stderr).toBe(0);
      const shown = scheme === 'enc' ? `enc:v1:${enc.split(':')[2]}:[encrypted]` : ref;
      expect(cfg.stdout).toContain(`password: ${shown}`);
      if (scheme === 'enc') expect(cfg.stdout).not.toContain(enc.split(':')[3]!.slice(0, 12));
      for (const r of [doctor, call, cfg]) expect(leak(r.stdout + r.stderr)).toBeUndefined();
    });
  }

  it('approvals.secret takes a reference too; config shows it', async () => {
    const file = join(dir, 'approvals.yaml');
    await writeFile(file, 'approvals:\n  secret: env:APPROVAL_SECRET_REF\n');
    const r = await run(['config', '--config', file], {
      env: env({ APPROVAL_SECRET_REF: 'approval-secret-0123456789' }),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('secret: env:APPROVAL_SECRET_REF');
    expect(r.stdout + r.stderr).not.toContain('approval-secret-0123456789');
    const missing = await run(['config', '--config', file], { env: env() });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /"approvals\.secret": env:APPROVAL_SECRET_REF: environment variable APPROVAL_SECRET_REF is not set/,
    );
  });

  it('start errors: missing variable, unreadable file, wrong key, tampered value, unknown scheme', async () => {
    const cases: [string, string, Record<string, string>, RegExp][] = [
      [
        'env:PROM_NOT_SET',
        'missing-env.yaml',
        {},
        /"plugins\.prometheus\.basicAuth\.password": env:PROM_NOT_SET: environment variable PROM_NOT_SET is not set/,
      ],
      [
        'file:no-such-file',
        'missing-file.yaml',
        {},
        /"plugins\.prometheus\.basicAuth\.password": file:no-such-file: cannot read .*no-such-file: no such file/,
      ],
      [
        enc,
        'wrong-key.yaml',
        { INFRA_MCP_SECRET_KEY: 'ab'.repeat(32) },
        /"plugins\.prometheus\.basicAuth\.password": enc:v1:.*encrypted with another key .*re-encrypt it: infra-mcp secret encrypt/,
      ],
      [
        `${enc.slice(0, -10)}${enc.at(-10) === 'A' ? 'B' : 'A'}${enc.slice(-9)}`,
        'tampered.yaml',
        {},
        /"plugins\.prometheus\.basicAuth\.password": enc:v1:.*does not decrypt: the value was altered or damaged.*re-encrypt/,
      ],
      [
        'enc:v9:0000',
        'v9.yaml',
        {},
        /"plugins\.prometheus\.basicAuth\.password": .*unknown encryption scheme "enc:v9" \(this build reads enc:v1\)/,
      ],
    ];
    for (const [ref, name, extra, message] of cases) {
      const file = await config(name, ref);
      for (const command of [['config'], ['doctor'], []]) {
        const r = await run([...command, '--config', file], { env: env(extra) });
        expect(r.code, `${name} ${command}: ${r.stderr}`).toBe(2);
        expect(r.stderr).toMatch(/configuration error/);
        expect(r.stderr).toMatch(message);
        expect(leak(r.stdout + r.stderr)).toBeUndefined();
      }
    }
    const tampered = `${enc.slice(0, -10)}${enc.at(-10) === 'A' ? 'B' : 'A'}${enc.slice(-9)}`;
    const check = await run(['secret', 'decrypt-check', tampered], { env: env() });
    expect(check.code).toBe(1);
    expect(check.stderr).toMatch(/altered or damaged/);
  });
});
