/**
 * Leak corpus: every configured secret form (URL password with an unencoded `@`, basic auth, bearer
 * token, bearer token file, custom header values, SigV4 keys) is echoed back by a loopback backend
 * in result labels, label values, warnings, error bodies and the version `doctor` prints. The built
 * CLI runs `config`, `doctor` and a stdio session of tool calls; no 8-character window of any secret
 * may show in stdout (results, errors), stderr or the audit file.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, runStdio } from './cli-helpers.js';
import { cliPath, requireBuilt } from './helpers/app-process.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

const URL_USER = 'promuser';
const URL_PASSWORD = 'p@ss9Qz4Wurlk7Jm'; // unencoded `@`: half of it survived the URL pattern before
const BASIC_USER = 'basicuser';
const BASIC_PASSWORD = 'B4sq8Nw2Tv6Hb3Xc';
const BEARER = 'brrT0k3nQ9zX7vW5mL2p';
const FILE_TOKEN = 'f1lT0kRq8Zx6Vn4Bm2Kc';
const X_AUTH_KEY = 'xAk7Gh2Lq9Wz4Rt6Yp';
const OCP_KEY = 'oCp3Jk8Mn5Qw2Ez7Xr';
const ACCESS_KEY_ID = 'AKIDEXAMPLEKEY12345';
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMIK7MDENGbPxRfiCYzQ8w';

/** Each secret in the forms a backend can send back: as is, and the base64 `user:password` of basic credentials. */
const FORMS: Record<string, string> = {
  'URL password': URL_PASSWORD,
  'URL password, basic base64': b64(`${URL_USER}:${URL_PASSWORD}`),
  'basic password': BASIC_PASSWORD,
  'basic base64': b64(`${BASIC_USER}:${BASIC_PASSWORD}`),
  'bearer token': BEARER,
  'bearer token file': FILE_TOKEN,
  'X-Auth-Key header': X_AUTH_KEY,
  'Ocp-Apim-Subscription-Key header': OCP_KEY,
  'SigV4 access key id': ACCESS_KEY_ID,
  'SigV4 secret access key': SECRET_ACCESS_KEY,
};

/** The first 8-character window of any secret form found in `text`, or undefined. */
function leak(text: string): string | undefined {
  for (const [name, secret] of Object.entries(FORMS)) {
    for (let i = 0; i + 8 <= secret.length; i++) {
      const window = secret.slice(i, i + 8);
      const at = text.indexOf(window);
      if (at >= 0) return `${name}: "${window}" in …${text.slice(Math.max(0, at - 60), at + 40)}…`;
    }
  }
  return undefined;
}

let backend: http.Server;
let port: number;
let dir: string;
let configPath: string;
let auditPath: string;
const seen: string[] = [];

/** Everything a client sent: header values (and the credential without its scheme), URL, body. */
function echoOf(req: http.IncomingMessage, body: string): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(req.headers)) {
    parts.push(`${k}=${v}`);
    if (k === 'authorization') parts.push(String(v).replace(/^\S+\s+/, ''));
  }
  parts.push(`url=${req.url}`, `body=${body}`);
  return parts.join(' ');
}

beforeAll(async () => {
  requireBuilt(cliPath);
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-leaks-'));
  backend = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const echo = echoOf(req, body);
      seen.push(echo);
      const path = new URL(req.url!, 'http://x').pathname;
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (path.endsWith('/api/v1/status/buildinfo'))
        return json(200, { status: 'success', data: { version: `2.0-${echo}` } });
      if (path.endsWith('/api/v1/query'))
        return json(200, {
          status: 'success',
          // a long warning is abbreviated by the tool: the secret sits where the cut falls
          warnings: [`${'w'.repeat(300)} ${echo}`],
          data: {
            resultType: 'vector',
            result: [
              { metric: { __name__: 'up', echo, auth: String(req.headers.authorization) }, value: [1, '1'] },
            ],
          },
        });
      if (/\/api\/v1\/label\/[^/]+\/values$/.test(path))
        return json(200, { status: 'success', data: echo.split(' ').sort() });
      if (path.endsWith('/api/v1/series'))
        return json(400, { status: 'error', errorType: 'bad_data', error: `cannot parse ${echo}` });
      // an error body whose 200-character snippet is cut in the middle of the credential
      const auth = String(req.headers.authorization ?? '')
        .replace(/^\S+\s+/, '')
        .replace(/^Credential=/, '');
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end(`${'x'.repeat(190)}${auth} ${echo}`);
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  port = (backend.address() as AddressInfo).port;
  const tokenFile = join(dir, 'token');
  await writeFile(tokenFile, `${FILE_TOKEN}\n`);
  const base = `http://127.0.0.1:${port}/`;
  configPath = join(dir, 'infra-mcp.yaml');
  auditPath = join(dir, 'audit.jsonl');
  await writeFile(
    configPath,
    `plugins:
  prometheus:
    instances:
      urlpw:
        url: "http://${URL_USER}:${URL_PASSWORD}@127.0.0.1:${port}/"
      basic:
        url: "${base}"
        basicAuth: { username: ${BASIC_USER}, password: ${BASIC_PASSWORD} }
      bearer:
        url: "${base}"
        bearerToken: ${BEARER}
      file:
        url: "${base}"
        bearerTokenFile: ${tokenFile}
      headers:
        url: "${base}"
        headers: { X-Auth-Key: ${X_AUTH_KEY}, Ocp-Apim-Subscription-Key: ${OCP_KEY} }
      sigv4:
        url: "${base}"
        sigv4: { region: us-east-1, accessKeyId: ${ACCESS_KEY_ID}, secretAccessKey: ${SECRET_ACCESS_KEY}, controlPlaneUrl: "${base}" }
`,
  );
});

afterAll(async () => {
  await new Promise<void>((r) => backend?.close(() => r()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const INSTANCES = ['urlpw', 'basic', 'bearer', 'file', 'headers', 'sigv4'];
const env = () => ({ INFRA_MCP_AUDIT_FILE: auditPath, HOME: dir });

describe('no configured secret leaks, whole or in part', () => {
  it('infra-mcp config', async () => {
    const r = await run(['config', '--config', configPath], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/X-Auth-Key: "?\[REDACTED\]"?/);
    expect(leak(r.stdout + r.stderr)).toBeUndefined();
  });

  it('infra-mcp doctor (the backend echoes credentials in its version string)', async () => {
    const r = await run(['doctor', '--config', configPath], { env: env() });
    // every instance was reached and answered with the echo
    for (const i of INSTANCES) expect(r.stdout).toMatch(new RegExp(`prometheus\\s+${i}\\s+ok`));
    expect(leak(r.stdout + r.stderr)).toBeUndefined();
  });

  it('tool results, label values, warnings, errors, stderr and the audit file', async () => {
    seen.length = 0;
    const calls = INSTANCES.flatMap((instance) => [
      { name: 'prometheus_query', arguments: { instance, query: 'up' } },
      { name: 'prometheus_query', arguments: { instance, query: 'up', maxBytes: 600 } },
      { name: 'prometheus_label_values', arguments: { instance, label: 'job' } },
      { name: 'prometheus_labels', arguments: { instance } },
      { name: 'prometheus_series', arguments: { instance, match: ['up'] } },
    ]);
    // the AMP control plane (the same fake) answers 401 with the signed credential in its body
    calls.push({ name: 'prometheus_workspaces', arguments: { instance: 'sigv4' } } as never);
    const r = await runStdio(
      ['--config', configPath],
      calls.map((params) => ({ method: 'tools/call', params })),
      env(),
    );
    expect(r.byId.size).toBe(calls.length + 1);
    const results = [...r.byId.values()].slice(1).map((m) => m.result);
    // the attack happened: the backend got every credential and echoed it on each path
    const sent = seen.join('\n');
    for (const s of [BEARER, FILE_TOKEN, X_AUTH_KEY, OCP_KEY, ACCESS_KEY_ID, FORMS['basic base64']!])
      expect(sent).toContain(s);
    expect(results.filter((x) => x?.isError).length).toBe(INSTANCES.length * 2 + 1);
    expect(results.filter((x) => x && !x.isError).length).toBe(INSTANCES.length * 3);
    expect(JSON.stringify(results)).toContain('[REDACTED]');
    const audit = await readFile(auditPath, 'utf8');
    expect(audit.trim().split('\n').length).toBeGreaterThanOrEqual(calls.length);
    expect(leak(r.stdout)).toBeUndefined();
    expect(leak(r.stderr)).toBeUndefined();
    expect(leak(audit)).toBeUndefined();
  });
});
