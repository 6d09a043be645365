/**
 * SigV4 end to end: our signer (aws4) against AWS's own verifier logic (@smithy/signature-v4 in
 * test/sigv4-proxy.ts), in front of a real Prometheus (test/prometheus-server.ts). Nothing here
 * talks to AWS: credentials are static or come from a temporary shared-credentials file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearAwsCredentialCache, resolveAwsCredentials, sigv4ConfigSchema, sigv4Fetch } from '../src/aws.js';
import { prometheus } from '../src/index.js';
import { prepareSignedRequest, signRequest } from '../src/sigv4.js';
import { type AmpClientLike, workspacesTool } from '../src/tools/workspaces.js';
import { type PrometheusServer, startPrometheus } from './prometheus-server.js';
import { type Sigv4Proxy, startSigv4Proxy } from './sigv4-proxy.js';

const REGION = 'eu-west-1';
const GOOD = { accessKeyId: 'AKIDINFRAMCPTEST', secretAccessKey: 'good/secret+key0123456789abcdefghijklmno' };
const BAD = { accessKeyId: GOOD.accessKeyId, secretAccessKey: 'wrong/secret+key0123456789abcdefghijklmn' };
const MISMATCH = 'The request signature we calculated does not match the signature you provided';

let prom: PrometheusServer;
let proxy: Sigv4Proxy;
let awsDir: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  prom = await startPrometheus();
  proxy = await startSigv4Proxy({
    upstream: prom.url,
    credentials: GOOD,
    region: REGION,
    workspaceId: 'ws-test',
    workspaces: [
      { workspaceId: 'ws-test', alias: 'prod-metrics', createdAt: 1_700_000_000.5 },
      { workspaceId: 'ws-0a1b2c3d', alias: 'staging', status: 'CREATING', createdAt: 1_710_000_000 },
      { workspaceId: 'ws-noalias' },
    ],
  });
  // Profiles for the credential-provider path; never the real ~/.aws, never IMDS or STS.
  awsDir = await mkdtemp(join(tmpdir(), 'infra-mcp-aws-'));
  await writeFile(
    join(awsDir, 'credentials'),
    `[amp-good]\naws_access_key_id = ${GOOD.accessKeyId}\naws_secret_access_key = ${GOOD.secretAccessKey}\n\n` +
      `[amp-bad]\naws_access_key_id = ${BAD.accessKeyId}\naws_secret_access_key = ${BAD.secretAccessKey}\n`,
  );
  await writeFile(join(awsDir, 'config'), '');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(awsDir, 'credentials');
  process.env.AWS_CONFIG_FILE = join(awsDir, 'config');
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  for (const k of [
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_ROLE_ARN',
  ])
    delete process.env[k];
});

afterAll(async () => {
  process.env = savedEnv;
  await proxy?.close();
  await prom?.stop();
  if (awsDir) await rm(awsDir, { recursive: true, force: true });
});

const dataUrl = (path: string) => new URL(`${proxy.url}/workspaces/ws-test/${path}`);

describe('verifying proxy in front of the real Prometheus', () => {
  it('forwards a signed GET whose query has spaces and "+" (strict query encoding)', async () => {
    const url = dataUrl('api/v1/query');
    url.searchParams.set('query', 'sum by (job) (up) + 0');
    const signed = prepareSignedRequest(
      { method: 'GET', url, headers: {} },
      { region: REGION, service: 'aps', credentials: GOOD },
    );
    const res = await fetch(signed.url, { headers: signed.headers });
    const body = (await res.json()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.status).toBe('success');
    expect(body.data.result.map((r: any) => r.metric.job).sort()).toContain('node');
    expect(proxy.log.at(-1)).toMatchObject({ status: 200, outcome: 'forwarded' });
  });

  it('a URLSearchParams "+" sent as is after signRequest does not verify: send the URL prepareSignedRequest returns', async () => {
    const url = dataUrl('api/v1/query');
    url.searchParams.set('query', 'sum by (job) (up)');
    expect(url.search).toContain('+');
    // one signing time for both signatures: under load the two calls can fall in different seconds
    const date = new Date();
    const headers = signRequest(
      { method: 'GET', url, headers: {} },
      { region: REGION, service: 'aps', credentials: GOOD, date },
    );
    // AWS reads "+" in a query literally; aws4 (querystring) reads it as a space.
    expect((await fetch(url, { headers })).status).toBe(403);
    const signed = prepareSignedRequest(
      { method: 'GET', url, headers: {} },
      { region: REGION, service: 'aps', credentials: GOOD, date },
    );
    expect(signed.headers.Authorization).toBe(headers.Authorization);
    expect((await fetch(signed.url, { headers: signed.headers })).status).toBe(200);
  });

  it('forwards a signed POST form body (content headers signed)', async () => {
    const body = new URLSearchParams({ query: 'up{job="node"} == 1' }).toString();
    const url = dataUrl('api/v1/query');
    const headers = signRequest(
      { method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
      { region: REGION, service: 'aps', credentials: { ...GOOD } },
    );
    const res = await fetch(url, { method: 'POST', headers, body });
    const json = (await res.json()) as any;
    expect(res.status, JSON.stringify(json)).toBe(200);
    expect(json.data.result).toHaveLength(1);
    expect(proxy.log.at(-1)!.signedHeaders).toEqual(['content-length', 'content-type', 'host', 'x-amz-date']);
  });

  it('rejects a request signed with a wrong secret key (403, AWS message)', async () => {
    const url = dataUrl('api/v1/labels');
    const headers = signRequest(
      { method: 'GET', url, headers: {} },
      { region: REGION, service: 'aps', credentials: BAD },
    );
    const forwardedBefore = proxy.log.filter((l) => l.outcome === 'forwarded').length;
    const res = await fetch(url, { headers });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).message).toContain(MISMATCH);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
    expect(proxy.log.filter((l) => l.outcome === 'forwarded').length).toBe(forwardedBefore);
  });

  it('rejects unsigned, tampered and mis-scoped requests', async () => {
    expect((await fetch(dataUrl('api/v1/labels'))).status).toBe(403);
    // Signed for one query, sent with another.
    const url = dataUrl('api/v1/query?query=up');
    const headers = signRequest(
      { method: 'GET', url, headers: {} },
      { region: REGION, service: 'aps', credentials: GOOD },
    );
    expect((await fetch(dataUrl('api/v1/query?query=down'), { headers })).status).toBe(403);
    // Another region than the workspace's.
    const other = signRequest(
      { method: 'GET', url, headers: {} },
      { region: 'us-east-1', service: 'aps', credentials: GOOD },
    );
    const res = await fetch(url, { headers: other });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).message).toContain('expected eu-west-1/aps');
  });

  it('keeps the /workspaces/ws-test/ prefix: the signature covers it and the proxy routes on it', async () => {
    const url = dataUrl('api/v1/status/buildinfo');
    const headers = signRequest(
      { method: 'GET', url, headers: {} },
      { region: REGION, service: 'aps', credentials: GOOD },
    );
    const res = await fetch(url, { headers });
    expect(res.status).toBe(200);
    expect(proxy.log.at(-1)!.path).toBe('/workspaces/ws-test/api/v1/status/buildinfo');
    // Signed for the full path; the same signature on the path without the prefix does not verify.
    const stripped = new URL(`${proxy.url}/api/v1/status/buildinfo`);
    expect((await fetch(stripped, { headers })).status).toBe(403);
    // Another workspace id is not forwarded.
    const other = new URL(`${proxy.url}/workspaces/ws-other/api/v1/status/buildinfo`);
    const h2 = signRequest(
      { method: 'GET', url: other, headers: {} },
      { region: REGION, service: 'aps', credentials: GOOD },
    );
    expect((await fetch(other, { headers: h2 })).status).toBe(404);
  });
});

describe('credentials', () => {
  it('validates the sigv4 block', () => {
    expect(sigv4ConfigSchema.parse({ region: REGION }).service).toBe('aps');
    expect(sigv4ConfigSchema.safeParse({ region: 'eu-west-1.evil.example' }).success).toBe(false);
    expect(sigv4ConfigSchema.safeParse({ region: REGION, accessKeyId: 'AKID' }).success).toBe(false);
    expect(sigv4ConfigSchema.safeParse({ region: REGION, roleArn: 'not-an-arn' }).success).toBe(false);
    expect(sigv4ConfigSchema.safeParse({ region: REGION, url: 'x' }).success).toBe(false);
  });

  it('static keys short-circuit; profiles load lazily through the SDK and are cached', async () => {
    expect(await resolveAwsCredentials({ region: REGION, ...GOOD })).toMatchObject(GOOD);
    clearAwsCredentialCache();
    const good = await resolveAwsCredentials({ region: REGION, profile: 'amp-good' });
    expect(good).toMatchObject(GOOD);
    // Cached: a changed file is not re-read until the cache is cleared.
    await writeFile(join(awsDir, 'credentials.bak'), '');
    const prevFile = process.env.AWS_SHARED_CREDENTIALS_FILE;
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(awsDir, 'credentials.bak');
    expect(await resolveAwsCredentials({ region: REGION, profile: 'amp-good' })).toBe(good);
    process.env.AWS_SHARED_CREDENTIALS_FILE = prevFile;
  });

  it('a missing profile is a clear ToolError', async () => {
    await expect(resolveAwsCredentials({ region: REGION, profile: 'nope' })).rejects.toMatchObject({
      code: 'aws_credentials',
      message: expect.stringContaining('profile "nope"'),
    });
  });

  it('sigv4Fetch signs with profile credentials and passes the proxy; the wrong profile gets 403', async () => {
    const url = dataUrl('api/v1/query');
    url.searchParams.set('query', 'count(up)');
    const ok = await sigv4Fetch({ region: REGION, profile: 'amp-good' }, url);
    expect(ok.status).toBe(200);
    const bad = await sigv4Fetch({ region: REGION, profile: 'amp-bad' }, url);
    expect(bad.status).toBe(403);
  });
});

describe('workspaces tool (fake AMP control plane)', () => {
  const ctx = (client: AmpClientLike, budget = 16_384) =>
    ({
      client,
      instance: 'amp',
      signal: new AbortController().signal,
      budget,
      progress: async () => {},
      secret: () => {},
      log: { debug() {}, info() {}, warn() {}, error() {} },
    }) as unknown as Parameters<typeof workspacesTool.run>[1];
  const sigv4 = () => ({ region: REGION, ...GOOD, controlPlaneUrl: proxy.url });

  it('lists the workspaces of the configured region as a compact table', async () => {
    const r = await workspacesTool.run({ limit: 100 }, ctx({ sigv4: sigv4() }));
    expect(r.data.region).toBe(REGION);
    expect(r.data.workspaces).toEqual([
      {
        alias: 'prod-metrics',
        id: 'ws-test',
        status: 'ACTIVE',
        prometheusEndpoint: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-test/',
        created: '2023-11-14T22:13:20Z',
      },
      {
        alias: 'staging',
        id: 'ws-0a1b2c3d',
        status: 'CREATING',
        prometheusEndpoint: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-0a1b2c3d/',
        created: '2024-03-09T16:00:00Z',
      },
      {
        alias: null,
        id: 'ws-noalias',
        status: 'ACTIVE',
        prometheusEndpoint: 'https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-noalias/',
        created: '2023-11-14T22:13:20Z',
      },
    ]);
    expect(r.text!.split('\n')[0]).toMatch(/^alias\s+id\s+status\s+prometheusEndpoint\s+created$/);
    expect(r.text).toContain('staging       ws-0a1b2c3d  CREATING');
    expect(outputOk(r.data)).toBe(true);
    expect(proxy.log.at(-1)).toMatchObject({ outcome: 'control-plane', path: '/workspaces?maxResults=100' });
  });

  it('filters by alias prefix and pages with a cursor', async () => {
    const first = await workspacesTool.run({ limit: 1 }, ctx({ config: { sigv4: sigv4() } }));
    expect(first.data.workspaces.map((w) => w.id)).toEqual(['ws-test']);
    expect(first.data.nextCursor).toBe('1');
    expect(first.text).toContain('cursor "1"');
    const second = await workspacesTool.run(
      { limit: 1, cursor: first.data.nextCursor },
      ctx({ sigv4: sigv4() }),
    );
    expect(second.data.workspaces.map((w) => w.id)).toEqual(['ws-0a1b2c3d']);
    const staging = await workspacesTool.run({ limit: 100, alias: 'stag' }, ctx({ sigv4: sigv4() }));
    expect(staging.data.workspaces.map((w) => w.id)).toEqual(['ws-0a1b2c3d']);
  });

  it('a wrong secret key gives a clear unauthorized error', async () => {
    const err = await workspacesTool
      .run({ limit: 100 }, ctx({ sigv4: { ...sigv4(), secretAccessKey: BAD.secretAccessKey } }))
      .catch((e) => e);
    expect(err).toMatchObject({ name: 'ToolError', code: 'unauthorized' });
    expect(err.message).toContain('HTTP 403');
    expect(err.message).toContain(MISMATCH);
    expect(err.message).not.toContain(BAD.secretAccessKey);
    expect(err.hint).toContain('aps:ListWorkspaces');
  });

  it('an instance without sigv4 is not_configured', async () => {
    const err = await workspacesTool.run({ limit: 100 }, ctx({ config: {} })).catch((e) => e);
    expect(err).toMatchObject({ code: 'not_configured' });
    expect(err.hint).toContain('sigv4');
  });

  it('an unreachable control plane is backend_unreachable', async () => {
    const err = await workspacesTool
      .run(
        { limit: 100 },
        ctx({ sigv4: { ...sigv4(), controlPlaneUrl: `http://127.0.0.1:${prom.deadPort}` } }),
      )
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'backend_unreachable' });
  });
});

function outputOk(data: unknown): boolean {
  return workspacesTool.output.safeParse(data).success;
}

// Through the whole plugin (MCP client -> core -> plugin client -> signer -> proxy -> Prometheus).
describe('through the plugin', () => {
  it('queries AMP through the proxy, refuses a wrong key clearly, lists workspaces', async () => {
    const t = await connect([
      prometheus({
        instances: {
          // controlPlaneUrl: the workspaces tool must reach the fake control plane, never AWS.
          amp: {
            url: `${proxy.url}/workspaces/ws-test/`,
            sigv4: { region: REGION, profile: 'amp-good', controlPlaneUrl: proxy.url },
          },
          ampget: {
            url: `${proxy.url}/workspaces/ws-test/`,
            method: 'GET',
            sigv4: { region: REGION, profile: 'amp-good', controlPlaneUrl: proxy.url },
          },
          ampbad: {
            url: `${proxy.url}/workspaces/ws-test/`,
            sigv4: { region: REGION, profile: 'amp-bad', controlPlaneUrl: proxy.url },
          },
        },
      } as any),
    ]);
    try {
      const ok = await t.call('prometheus_query', { instance: 'amp', query: 'sum by (job) (up)' });
      expect(ok.isError, ok.text).toBe(false);
      expect(ok.text).toContain('node');
      // GET: the query string (spaces, "+", braces, quotes) is signed the way it is sent.
      const viaGet = await t.call('prometheus_query', {
        instance: 'ampget',
        query: 'sum by (job) (up{job="node"}) + 0',
      });
      expect(viaGet.isError, viaGet.text).toBe(false);
      expect(proxy.log.at(-1)).toMatchObject({ method: 'GET', status: 200, outcome: 'forwarded' });
      const bad = await t.call('prometheus_query', { instance: 'ampbad', query: 'up' });
      expect(bad.isError).toBe(true);
      expect(bad.text).toContain('403');
      expect(bad.text).toContain(MISMATCH);
      expect(bad.text).not.toContain(BAD.secretAccessKey);
      const names = (await t.listTools()).map((tool: any) => tool.name);
      expect(names).toContain('prometheus_workspaces');
      const ws = await t.call('prometheus_workspaces', { instance: 'amp' });
      expect(ws.isError, ws.text).toBe(false);
      expect(ws.structured.workspaces.map((w: any) => w.id)).toEqual([
        'ws-test',
        'ws-0a1b2c3d',
        'ws-noalias',
      ]);
      const wsBad = await t.call('prometheus_workspaces', { instance: 'ampbad' });
      expect(wsBad.errorCode).toBe('unauthorized');
      // No request reached Prometheus unsigned or with a bad signature.
      expect(
        proxy.log.filter((l) => l.outcome === 'forwarded').every((l) => l.signedHeaders?.includes('host')),
      ).toBe(true);
    } finally {
      await t.close();
    }
  });
});
