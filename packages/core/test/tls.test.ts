/**
 * core's TLS agent factory against a loopback HTTPS server with a self-signed certificate made by
 * the openssl CLI: pinning (match, mismatch), default verification, CA file, verification off.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeFingerprint, tlsOptionsSchema } from '../src/index.js';
import { createHttpsAgent } from '../src/tls-agent.js';

let dir: string;
let certFile: string;
let fingerprint: string;
let server: https.Server;
let url: string;
const received: string[] = [];

function openssl(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('openssl', args, (err, _out, stderr) =>
      err ? reject(new Error(`openssl failed (needed for TLS tests): ${stderr || err.message}`)) : resolve(),
    ),
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-tls-'));
  const keyFile = join(dir, 'server.key');
  certFile = join(dir, 'server.crt');
  // a host name that is not 127.0.0.1: a pin alone must not care (Proxmox's default certificate names the node)
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '1',
    '-subj',
    '/CN=pve-node1',
    '-addext',
    'subjectAltName=DNS:pve-node1',
  ]);
  const [key, cert] = await Promise.all([readFile(keyFile), readFile(certFile)]);
  fingerprint = new X509Certificate(cert).fingerprint256;
  server = https.createServer({ key, cert }, (req, res) => {
    received.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.end('hello');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  if (dir) await rm(dir, { recursive: true, force: true });
});

function get(agent: https.Agent, path = 'x'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      new URL(path, url),
      { agent, headers: { authorization: 'Bearer s3cret' } },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
  });
}

function logger() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (msg: string) => lines.push({ level, msg });
  return { lines, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

const parse = (tls: unknown) => tlsOptionsSchema.parse(tls);

describe('TLS agent factory', () => {
  it('a matching pin connects to a self-signed server whose name does not match; colons and case do not matter', async () => {
    for (const pin of [fingerprint, fingerprint.replace(/:/g, '').toLowerCase()]) {
      const agent = createHttpsAgent(parse({ fingerprint256: pin }), { label: 'test backend' });
      expect(await get(agent, `ok-${pin.length}`)).toBe('hello');
      agent.destroy();
    }
    expect(received.filter((r) => r.startsWith('GET /ok-'))).toHaveLength(2);
  });

  it('a pin mismatch refuses the connection before anything is sent, naming expected and presented fingerprints', async () => {
    const wrong = 'AB'.repeat(32);
    const agent = createHttpsAgent(parse({ fingerprint256: wrong }), { label: 'proxmox instance "pve"' });
    const before = received.length;
    const err = await get(agent, 'mismatch').catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('tls_error');
    expect(err.message).toContain('TLS certificate pin mismatch for proxmox instance "pve"');
    expect(err.message).toContain(`expected SHA-256 ${normalizeFingerprint(wrong)}`);
    expect(err.message).toContain(`got ${fingerprint}`);
    expect(err.hint).toContain('tls.fingerprint256');
    // the request (and its credentials) never reached the server
    await new Promise((r) => setTimeout(r, 50));
    expect(received.length).toBe(before);
    agent.destroy();
  });

  it('a pin together with a CA file checks both: a CA that did not sign the certificate refuses even with the right pin', async () => {
    const otherCa = join(dir, 'other.crt');
    await openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      join(dir, 'other.key'),
      '-out',
      otherCa,
      '-days',
      '1',
      '-subj',
      '/CN=other',
    ]);
    const agent = createHttpsAgent(parse({ fingerprint256: fingerprint, caFile: otherCa }), { label: 'b' });
    await expect(get(agent)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    agent.destroy();
  });

  it('no CA file and no pin: the self-signed certificate is refused (verification is on by default)', async () => {
    const agent = createHttpsAgent(parse({}), { label: 'b' });
    await expect(get(agent)).rejects.toThrow(/self[- ]signed/i);
    agent.destroy();
    const none = createHttpsAgent(undefined, { label: 'b' });
    await expect(get(none)).rejects.toThrow(/self[- ]signed/i);
    none.destroy();
  });

  it('insecureSkipVerify connects, and the agent logs a warning when it is made', async () => {
    const { lines, log } = logger();
    const agent = createHttpsAgent(parse({ insecureSkipVerify: true }), {
      label: 'prometheus instance "lab"',
      log,
    });
    expect(lines).toEqual([
      {
        level: 'warn',
        msg: 'TLS certificate verification is OFF for prometheus instance "lab"; tls.insecureSkipVerify is set',
      },
    ]);
    expect(await get(agent)).toBe('hello');
    agent.destroy();
  });

  it('config: a malformed pin, a pin with insecureSkipVerify, half a client key pair are refused; a missing file names its key', () => {
    expect(() => parse({ fingerprint256: 'abc' })).toThrow(/64 hex digits/);
    expect(() => parse({ fingerprint256: fingerprint, insecureSkipVerify: true })).toThrow(/contradict/);
    expect(() => parse({ certFile: '/x.crt' })).toThrow(/both certFile and keyFile/);
    expect(() => createHttpsAgent(parse({ caFile: join(dir, 'nope.pem') }), { label: 'b' })).toThrow(
      /b: tls.caFile .*nope.pem cannot be read/,
    );
  });
});
