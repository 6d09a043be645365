import { createServer as createNetServer } from 'node:net';
import { type Oidc, signingKey, startOidc } from '@infra-mcp/testing/oidc';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttp, serveHttp } from '../src/http.js';
import { createServer, type InfraMcpServer, MemoryAuditSink } from '../src/index.js';
import { validateOAuthOptions } from '../src/oauth.js';
import { kv } from './fixture-plugin.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const STATIC = 'static-token-0123456789abcdef';
const audit = new MemoryAuditSink();
let app: InfraMcpServer;
let http: RunningHttp;
let resource: string;
/** Added to the resource server's clock (expiry tests), never to the provider's. */
let skew = 0;
/** The issuer this server trusts, and three that sign what it must refuse. */
let idp: Oidc;
let forger: Oidc; // same issuer name and kid, another key
let stranger: Oidc; // same issuer name, a key with another kid
let impostor: Oidc; // the same signing key, another issuer

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  const key = await signingKey('k1');
  idp = await startOidc({ keys: [key] });
  forger = await startOidc({ keys: [await signingKey('k1')], issuer: idp.issuer });
  stranger = await startOidc({ keys: [await signingKey('k3')], issuer: idp.issuer });
  impostor = await startOidc({ keys: [key] });
  const port = await freePort();
  resource = `http://127.0.0.1:${port}/mcp`;
  app = createServer({ plugins: [kv({ url: 'http://kv.local' })], audit: [audit], logger: quiet, env: {} });
  http = await serveHttp(app, {
    port,
    tokens: { ops: STATIC },
    oauth: { issuer: idp.issuer, resource, now: () => Date.now() + skew },
  });
});
afterAll(async () => {
  await http?.close();
  await app?.close();
  for (const p of [idp, forger, stranger, impostor]) await p?.close();
});

const rpc = (token: string | undefined, body: unknown) =>
  fetch(http.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
const call = (name: string, args: Record<string, unknown>) => ({
  jsonrpc: '2.0',
  id: 2,
  method: 'tools/call',
  params: { name, arguments: args },
});
/** The JSON-RPC answer of a POST (JSON or one SSE event). */
async function answer(res: Response): Promise<any> {
  const text = await res.text();
  const data = text.startsWith('{') ? text : /^data: (.*)$/m.exec(text)?.[1];
  return JSON.parse(data ?? 'null');
}
async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'oauth-test', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(http.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}
/** The 401's description (a header value: its double quotes become single), after checking it is an invalid_token challenge pointing at the metadata. */
async function refusal(token: string): Promise<string> {
  const res = await rpc(token, list);
  expect(res.status).toBe(401);
  const challenge = res.headers.get('www-authenticate')!;
  expect(challenge).toContain(
    `resource_metadata="http://127.0.0.1:${http.port}/.well-known/oauth-protected-resource/mcp"`,
  );
  expect(challenge).toContain('error="invalid_token"');
  return /error_description="([^"]*)"/.exec(challenge)![1]!;
}

describe('OAuth resource server', () => {
  it('publishes Protected Resource Metadata (RFC 9728) at the root and the path-suffixed well-known URL', async () => {
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const res = await fetch(`http://127.0.0.1:${http.port}${path}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        resource,
        authorization_servers: [idp.issuer],
        scopes_supported: ['infra-mcp:read', 'infra-mcp:write', 'infra-mcp:destructive'],
        bearer_methods_supported: ['header'],
        resource_name: 'infra-mcp',
      });
    }
  });

  it('answers a request without a token 401 with resource_metadata; a client follows it to a token and reads', async () => {
    const res = await rpc(undefined, list);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).not.toContain('error=');
    // what an MCP client does: challenge -> resource metadata -> authorization server metadata -> token
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)![1]!;
    const metadata: any = await (await fetch(metadataUrl)).json();
    const as: any = await (
      await fetch(`${metadata.authorization_servers[0]}/.well-known/openid-configuration`)
    ).json();
    expect(as.token_endpoint).toBe(`${idp.url}/token`);
    const token = await idp.token('agent-a', metadata.resource, 'infra-mcp:read');
    const client = await connect(token);
    // tools the token's scopes do not allow are not listed
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['kv_get']);
    const r: any = await client.callTool({ name: 'kv_get', arguments: { key: 'a' } });
    expect(r.structuredContent).toEqual({ key: 'a', value: '1' });
    expect(audit.records.at(-1)).toMatchObject({ tool: 'kv_get', caller: 'oauth:agent-a', outcome: 'ok' });
    await client.close();
  });

  it('refuses a write with a read-scope token: 403 insufficient_scope naming the scope, audited as denied', async () => {
    const token = await idp.token('agent-a', resource, 'infra-mcp:read');
    const res = await rpc(token, call('kv_set', { key: 'a', value: '2' }));
    expect(res.status).toBe(403);
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="infra-mcp:write"');
    expect((await answer(res)).error.message).toMatch(
      /kv_set is a write tool .* lacks scope infra-mcp:write/,
    );
    expect(audit.records.at(-1)).toMatchObject({
      tool: 'kv_set',
      caller: 'oauth:agent-a',
      outcome: 'denied',
      errorCode: 'insufficient_scope',
    });
  });

  it('binds approvals to the subject: another subject cannot use it, nor the same one with a read-only token', async () => {
    const write = await idp.token('agent-a', resource, 'infra-mcp:write');
    const listed = await answer(await rpc(write, list));
    expect(listed.result.tools.map((t: { name: string }) => t.name)).toEqual(['kv_get', 'kv_set']);
    const dry = await answer(await rpc(write, call('kv_set', { key: 'a', value: '2' })));
    const approval = dry.result.structuredContent.approval;
    expect(approval).toBeTypeOf('string');

    const other = await idp.token('agent-b', resource, 'infra-mcp:write');
    const stolen = await answer(await rpc(other, call('kv_set', { key: 'a', value: '2', approval })));
    expect(stolen.result.isError).toBe(true);
    expect(stolen.result.content[0].text).toMatch(/issued to another caller/);

    const read = await idp.token('agent-a', resource, 'infra-mcp:read');
    expect((await rpc(read, call('kv_set', { key: 'a', value: '2', approval }))).status).toBe(403);

    const done = await answer(await rpc(write, call('kv_set', { key: 'a', value: '2', approval })));
    expect(done.result.structuredContent).toMatchObject({ dryRun: false, result: { old: '1', value: '2' } });
    expect(audit.records.at(-1)).toMatchObject({ tool: 'kv_set', caller: 'oauth:agent-a', outcome: 'ok' });
  });

  it('lets the destructive scope delete (scopes are cumulative)', async () => {
    const token = await idp.token('agent-b', resource, 'infra-mcp:destructive');
    const listed = await answer(await rpc(token, list));
    expect(listed.result.tools.map((t: { name: string }) => t.name)).toEqual([
      'kv_delete',
      'kv_get',
      'kv_set',
    ]);
    const dry = await answer(await rpc(token, call('kv_delete', { key: 'a' })));
    expect(dry.result.structuredContent.approval).toBeTypeOf('string');
  });

  it('refuses a token issued for another resource (audience)', async () => {
    const token = await idp.token('agent-a', 'https://other.example.com/api', 'infra-mcp:read');
    expect(await refusal(token)).toMatch(
      /audience 'https:\/\/other.example.com\/api' is not this server .*request the token with resource=/,
    );
  });

  it('refuses an expired token, also one it accepted before (the resource server clock moved past its expiry)', async () => {
    const token = await idp.token('agent-a', resource, 'infra-mcp:read');
    expect((await rpc(token, list)).status).toBe(200);
    skew = 3600_000;
    try {
      expect(await refusal(token)).toMatch(/the token expired at \d{4}-\d\d-\d\dT/);
    } finally {
      skew = 0;
    }
  });

  it('refuses a token signed by another key under the same kid (bad signature)', async () => {
    const token = await forger.token('agent-a', resource, 'infra-mcp:write');
    expect(await refusal(token)).toMatch(/signature does not verify with the issuer's key \(kid 'k1'\)/);
  });

  it('refuses a token whose kid is not in the issuer JWKS (unknown kid)', async () => {
    const token = await stranger.token('agent-a', resource, 'infra-mcp:write');
    expect(await refusal(token)).toMatch(/no key of the issuer's JWKS matches the token \(kid 'k3'\)/);
  });

  it('refuses a token from another issuer, even one signed with the same key (issuer)', async () => {
    const token = await impostor.token('agent-a', resource, 'infra-mcp:write');
    expect(await refusal(token)).toMatch(/issued by 'http:\/\/127.0.0.1:\d+', not the configured issuer/);
  });

  it('refuses an unsigned token (hand-made: simulates an alg=none attack on a real token)', async () => {
    const real = await idp.token('agent-a', resource, 'infra-mcp:destructive');
    const [, payload] = real.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    expect(await refusal(`${header}.${payload}.`)).toMatch(/algorithm 'none' is not accepted/);
  });

  it('refuses a token that is not a JWT, and a valid token with none of the scopes (403)', async () => {
    expect(await refusal('not-a-jwt-and-not-a-static-token')).toMatch(/not a valid signed JWT/);
    const token = await idp.token('agent-a', resource, 'openid');
    const res = await rpc(token, list);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('scope="infra-mcp:read"');
  });

  it('still accepts the static bearer tokens, which policy alone governs', async () => {
    const listed = await answer(await rpc(STATIC, list));
    expect(listed.result.tools).toHaveLength(3);
    await answer(await rpc(STATIC, call('kv_get', { key: 'a' })));
    expect(audit.records.at(-1)).toMatchObject({ tool: 'kv_get', caller: 'ops', outcome: 'ok' });
  });

  it('answers 503 (not 401) when the issuer cannot be reached, and counts the refusals on /metrics', async () => {
    const down = createServer({
      plugins: [kv({ url: 'http://kv.local' })],
      audit: [],
      logger: quiet,
      env: {},
    });
    const gone = `http://127.0.0.1:${await freePort()}`;
    const h = await serveHttp(down, { port: 0, oauth: { issuer: gone, resource: 'http://127.0.0.1/mcp' } });
    try {
      const token = await idp.token('agent-a', 'http://127.0.0.1/mcp', 'infra-mcp:read');
      const res = await fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(list),
      });
      expect(res.status).toBe(503);
      expect((await answer(res)).error.message).toMatch(/no discovery document at the issuer/);
      const metrics = await (await fetch(h.url.replace('/mcp', '/metrics'))).text();
      expect(metrics).toContain('infra_mcp_http_rejected_total{reason="auth_unavailable"} 1');
    } finally {
      await h.close();
      await down.close();
    }
  });
});

describe('OAuth issuer discovery', () => {
  it('refuses to take keys from a discovery document that names another issuer (a trailing slash too many)', async () => {
    const other = createServer({
      plugins: [kv({ url: 'http://kv.local' })],
      audit: [],
      logger: quiet,
      env: {},
    });
    const h = await serveHttp(other, { port: 0, oauth: { issuer: `${idp.issuer}/`, resource } });
    try {
      const token = await idp.token('agent-a', resource, 'infra-mcp:read');
      const res = await fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(list),
      });
      expect(res.status).toBe(503);
      expect((await answer(res)).error.message).toContain(
        `names issuer "${idp.issuer}", not the configured "${idp.issuer}/"`,
      );
    } finally {
      await h.close();
      await other.close();
    }
  });
});

describe('OAuth options', () => {
  const base = { issuer: 'https://auth.example.com', resource: 'https://mcp.example.com/mcp' };
  it.each([
    [{ issuer: 'http://auth.example.com' }, /oauth.issuer: .* must use https \(plain http only on loopback/],
    [{ resource: 'mcp.example.com/mcp' }, /oauth.resource: "mcp.example.com\/mcp" is not a URL/],
    [{ jwksUri: 'http://10.0.0.1/jwks' }, /oauth.jwksUri: .* must use https/],
    [{ algorithms: ['none'] }, /"none" is not accepted \(unsigned tokens are never accepted\)/],
    [{ algorithms: ['HS256'] }, /"HS256" is not accepted \(only asymmetric signatures/],
    [{ scopes: { write: 'infra-mcp:read' } }, /three different names/],
    [{ scopes: { read: 'has space' } }, /oauth.scopes.read: "has space" is not a scope name/],
  ])('refuses %j with a clear error', (bad, message) => {
    expect(() => validateOAuthOptions({ ...base, ...bad })).toThrow(message);
  });
});
