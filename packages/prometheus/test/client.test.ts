/**
 * Connection behaviour against the real Prometheus behind a recording proxy: base path prefixes,
 * POST form bodies and the GET fallback, auth (basic, bearer value and file, custom headers),
 * TLS (custom CA, client certificates, certificate pinning, verification off), warnings, configuration sources.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prometheus } from '../src/index.js';
import { type PrometheusServer, startPrometheus } from './prometheus-server.js';
import { selfSigned, startProxy, type TestProxy } from './proxy.js';

let prom: PrometheusServer;
let dir: string;
const proxies: TestProxy[] = [];

beforeAll(async () => {
  prom = await startPrometheus({ minScrapes: 1 });
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-prom-client-'));
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  await prom?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function proxy(opts: Omit<Parameters<typeof startProxy>[0], 'upstream'>): Promise<TestProxy> {
  const p = await startProxy({ upstream: prom.url, ...opts });
  proxies.push(p);
  return p;
}

describe('URL and method', () => {
  it('keeps the base path (AMP / Mimir / Thanos prefixes) and sends queries as POST form bodies', async () => {
    const p = await proxy({ prefix: '/workspaces/ws-1/' });
    const noSlash = p.url.replace(/\/$/, '');
    const t = await connect([prometheus({ instances: { a: { url: p.url }, b: { url: noSlash } } })]);
    for (const instance of ['a', 'b']) {
      const r = await t.call('prometheus_query', { instance, query: 'up{job="node"}' });
      expect(r.isError, r.text).toBe(false);
    }
    expect(p.requests.map((r) => [r.method, r.path])).toEqual([
      ['POST', '/workspaces/ws-1/api/v1/query'],
      ['POST', '/workspaces/ws-1/api/v1/query'],
    ]);
    expect(p.requests[0]!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(new URLSearchParams(p.requests[0]!.body).get('query')).toBe('up{job="node"}');
    await t.close();
  });

  it('a URL without the prefix gets a 404 explained', async () => {
    const p = await proxy({ prefix: '/prom/' });
    const t = await connect([prometheus({ url: p.url.replace('/prom/', '/') })]);
    const r = await t.call('prometheus_labels', {});
    expect(r.errorCode).toBe('not_supported');
    expect(r.text).toContain('path prefix');
    await t.close();
  });

  it('falls back to GET when a proxy refuses POST (405), and remembers it', async () => {
    const p = await proxy({ refusePost: true });
    const t = await connect([prometheus({ url: p.url })]);
    const long = `sum(up{job="node", instance=~"${'x|'.repeat(500)}.*"})`;
    const r = await t.call('prometheus_query', { query: long });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.samples[0].value).toBe(1);
    await t.call('prometheus_query', { query: 'up' });
    expect(p.requests.map((x) => x.method)).toEqual(['POST', 'GET', 'GET']);
    expect(new URL(p.requests[1]!.path, 'http://x').searchParams.get('query')).toBe(long);
    await t.close();
  });

  it('method GET sends everything as GET', async () => {
    const p = await proxy({});
    const t = await connect([prometheus({ url: p.url, method: 'GET' })]);
    await t.call('prometheus_series', { match: ['up'] });
    expect(p.requests.map((x) => x.method)).toEqual(['GET']);
    expect(p.requests[0]!.path).toMatch(/^\/api\/v1\/series\?match%5B%5D=up/);
    await t.close();
  });

  it('keeps Prometheus warnings in the text and the structured result', async () => {
    const p = await proxy({ warnings: ['remote store unavailable: partial data'] });
    const t = await connect([prometheus({ url: p.url })]);
    const r = await t.call('prometheus_query_range', { query: 'up', start: '-1m' });
    expect(r.structured.warnings).toEqual(['remote store unavailable: partial data']);
    expect(r.text).toContain('warning: remote store unavailable: partial data');
    const q = await t.call('prometheus_query', { query: 'up' });
    expect(q.text).toContain('warning: remote store unavailable');
    await t.close();
  });
});

describe('backends without some APIs (AMP, Mimir, Thanos)', () => {
  it('health falls back to a query; status says which sections are missing', async () => {
    const p = await proxy({ prefix: '/workspaces/ws-1/', missing: ['api/v1/status/'] });
    const t = await connect([prometheus({ url: p.url })]);
    const [health] = await t.server.health();
    expect(health!.report).toEqual({ ok: true, message: `query API answers at ${p.url}` });
    const r = await t.call('prometheus_status', {});
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.unavailable).toEqual(['build', 'runtime', 'tsdb']);
    expect(r.text).toContain('not served by this backend: build, runtime, tsdb');
    await t.close();
  });
});

describe('auth', () => {
  it('basic auth; a wrong password is refused without showing it', async () => {
    const p = await proxy({
      authorization: `Basic ${Buffer.from('grafana:s3cret-pass').toString('base64')}`,
    });
    const t = await connect([
      prometheus({
        instances: {
          good: { url: p.url, basicAuth: { username: 'grafana', password: 's3cret-pass' } },
          bad: { url: p.url, basicAuth: { username: 'grafana', password: 'wrong-pass-123' } },
        },
      }),
    ]);
    expect((await t.call('prometheus_query', { instance: 'good', query: 'up' })).isError).toBe(false);
    const r = await t.call('prometheus_query', { instance: 'bad', query: 'up' });
    expect(r.errorCode).toBe('unauthorized');
    expect(r.text).toContain('HTTP 401');
    const everything = JSON.stringify([r.raw, t.audit.records]);
    expect(everything).not.toContain('wrong-pass-123');
    expect(everything).not.toContain('s3cret-pass');
    await t.close();
  });

  it('credentials in the URL become basic auth and never show', async () => {
    const p = await proxy({ authorization: `Basic ${Buffer.from('u:pw-in-url').toString('base64')}` });
    const t = await connect([prometheus({ url: p.url.replace('http://', 'http://u:pw-in-url@') })]);
    expect((await t.call('prometheus_query', { query: 'up' })).isError).toBe(false);
    const health = await t.server.health();
    expect(health[0]!.report.message).not.toContain('pw-in-url');
    await t.close();
  });

  it('bearer token from config and from a file (re-read when it changes), plus tenant headers', async () => {
    const p = await proxy({
      authorization: 'Bearer token-one',
      requireHeaders: { 'X-Scope-OrgID': 'team-a' },
    });
    const file = join(dir, 'token');
    await writeFile(file, 'token-one\n');
    const t = await connect([
      prometheus({
        instances: {
          value: { url: p.url, bearerToken: 'token-one', headers: { 'X-Scope-OrgID': 'team-a' } },
          file: { url: p.url, bearerTokenFile: file, headers: { 'X-Scope-OrgID': 'team-a' } },
          notenant: { url: p.url, bearerToken: 'token-one' },
        },
      }),
    ]);
    expect((await t.call('prometheus_query', { instance: 'value', query: 'up' })).isError).toBe(false);
    expect((await t.call('prometheus_query', { instance: 'file', query: 'up' })).isError).toBe(false);
    const noTenant = await t.call('prometheus_query', { instance: 'notenant', query: 'up' });
    expect(noTenant.errorCode).toBe('unauthorized');
    expect(noTenant.text).toContain('missing X-Scope-OrgID');
    await new Promise((r) => setTimeout(r, 20));
    await writeFile(file, 'token-two\n');
    const rotated = await t.call('prometheus_query', { instance: 'file', query: 'up' });
    expect(rotated.errorCode).toBe('unauthorized');
    expect(p.requests.at(-1)!.headers.authorization).toBe('Bearer token-two');
    expect(JSON.stringify(t.audit.records)).not.toContain('token-one');
    await t.close();
  });

  it('configuration from env vars and from a config-file section', async () => {
    const p = await proxy({ authorization: 'Bearer env-token-value' });
    const fromEnv = await connect([prometheus()], {
      env: { PROMETHEUS_URL: p.url, PROMETHEUS_BEARER_TOKEN: 'env-token-value' },
    });
    expect((await fromEnv.call('prometheus_query', { query: 'up' })).isError).toBe(false);
    await fromEnv.close();
    const fromFile = await connect([prometheus()], {
      pluginConfig: {
        prometheus: { instances: { prod: { url: p.url, bearerToken: 'env-token-value', timeoutMs: 5000 } } },
      },
    });
    expect((await fromFile.call('prometheus_labels', {})).isError).toBe(false);
    await fromFile.close();
  });

  it('a config error names the key and an example', async () => {
    await expect(connect([prometheus()], { env: { PROMETHEUS_URL: 'not a url' } })).rejects.toThrow(
      /PROMETHEUS_URL.*url/s,
    );
  });
});

describe('TLS', () => {
  let server: { keyFile: string; certFile: string };
  let client: { keyFile: string; certFile: string };
  let tlsProxy: TestProxy;
  let mtlsProxy: TestProxy;

  beforeAll(async () => {
    server = await selfSigned(dir, 'prometheus-test');
    client = await selfSigned(dir, 'infra-mcp-client');
    const [key, cert, clientCa] = await Promise.all([
      readFile(server.keyFile, 'utf8'),
      readFile(server.certFile, 'utf8'),
      readFile(client.certFile, 'utf8'),
    ]);
    tlsProxy = await proxy({ tls: { key, cert } });
    mtlsProxy = await proxy({ tls: { key, cert, clientCa } });
  });

  it('verifies certificates by default: an unknown CA is a tls_error with a hint', async () => {
    const t = await connect([prometheus({ url: tlsProxy.url })]);
    const r = await t.call('prometheus_query', { query: 'up' });
    expect(r.errorCode).toBe('tls_error');
    expect(r.text).toContain('tls.caFile');
    await t.close();
  });

  it('trusts a CA file', async () => {
    const t = await connect([prometheus({ url: tlsProxy.url, tls: { caFile: server.certFile } })]);
    const r = await t.call('prometheus_query', { query: 'up{job="node"}' });
    expect(r.isError, r.text).toBe(false);
    await t.close();
  });

  it('turning verification off works, explicitly, and is logged', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) };
    const t = await connect([prometheus({ url: tlsProxy.url, tls: { insecureSkipVerify: true } })], {
      logger,
    });
    expect((await t.call('prometheus_query', { query: 'up' })).isError).toBe(false);
    expect(warnings.join('\n')).toMatch(
      /TLS certificate verification is OFF for prometheus instance "default"/,
    );
    await t.close();
  });

  it('pins the server certificate (tls.fingerprint256): the pin alone admits a self-signed server; a wrong pin is refused naming both fingerprints', async () => {
    const pin = new X509Certificate(await readFile(server.certFile)).fingerprint256;
    const wrong = '00'.repeat(32);
    const t = await connect([
      prometheus({
        instances: {
          pinned: { url: tlsProxy.url, tls: { fingerprint256: pin.replace(/:/g, '').toLowerCase() } },
          impostor: { url: tlsProxy.url, tls: { fingerprint256: wrong } },
        },
      }),
    ]);
    const ok = await t.call('prometheus_query', { instance: 'pinned', query: 'up{job="node"}' });
    expect(ok.isError, ok.text).toBe(false);
    const before = tlsProxy.requests.length;
    const refused = await t.call('prometheus_query', { instance: 'impostor', query: 'up' });
    expect(refused.errorCode).toBe('tls_error');
    expect(refused.text).toContain('pin mismatch for prometheus instance "impostor"');
    expect(refused.text).toContain(`expected SHA-256 ${'00:'.repeat(31)}00, got ${pin}`);
    expect(tlsProxy.requests.length).toBe(before); // nothing was sent to the unpinned server
    await t.close();
    const fromEnv = await connect([prometheus()], {
      env: { PROMETHEUS_URL: tlsProxy.url, PROMETHEUS_TLS_FINGERPRINT256: pin },
    });
    const viaEnv = await fromEnv.call('prometheus_query', { query: 'up{job="node"}' });
    expect(viaEnv.isError, viaEnv.text).toBe(false);
    await fromEnv.close();
    await expect(
      connect([prometheus({ url: tlsProxy.url, tls: { fingerprint256: 'not-a-fingerprint' } })]),
    ).rejects.toThrow(/tls\.fingerprint256.*64 hex digits/s);
  });

  it('presents a client certificate (mutual TLS)', async () => {
    const t = await connect([
      prometheus({
        instances: {
          'with-cert': {
            url: mtlsProxy.url,
            tls: { caFile: server.certFile, certFile: client.certFile, keyFile: client.keyFile },
          },
          'without-cert': { url: mtlsProxy.url, tls: { caFile: server.certFile } },
        },
      }),
    ]);
    const ok = await t.call('prometheus_query', { instance: 'with-cert', query: 'up' });
    expect(ok.isError, ok.text).toBe(false);
    expect(mtlsProxy.requests.at(-1)!.clientCert).toBe('infra-mcp-client');
    const refused = await t.call('prometheus_query', { instance: 'without-cert', query: 'up' });
    expect(refused.isError).toBe(true);
    expect(['tls_error', 'backend_unreachable']).toContain(refused.errorCode);
    await t.close();
  });
});
