import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Oidc, signingKey, startOidc } from '@infra-mcp/testing/oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KV_PLUGIN, run } from './cli-helpers.js';
import { cleanEnv, cliPath, requireBuilt, startHttpApp, tempDir } from './helpers/app-process.js';

// the public URL of /mcp (behind a proxy in production); tokens are requested for it
const RESOURCE = 'http://localhost/mcp';
let idp: Oidc;
let dir: string;

beforeAll(async () => {
  requireBuilt(cliPath);
  dir = tempDir('oauth');
  idp = await startOidc({ keys: [await signingKey('k1')] });
});
afterAll(async () => {
  await idp?.close();
});

const post = (url: string, token: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
  });
const call = (name: string, args: unknown) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name, arguments: args },
});

describe('infra-mcp with auth.oauth', () => {
  it('serves OAuth callers from env INFRA_MCP_OAUTH_*: metadata, scoped calls, the subject in the audit log', async () => {
    const audit = join(dir, 'audit.jsonl');
    const app = await startHttpApp(['--plugin-module', KV_PLUGIN], {
      cwd: dir,
      env: cleanEnv(dir, {
        KV_URL: 'http://kv.local',
        INFRA_MCP_AUDIT_FILE: audit,
        INFRA_MCP_OAUTH_ISSUER: idp.issuer,
        INFRA_MCP_OAUTH_RESOURCE: RESOURCE,
      }),
    });
    try {
      const metadata: any = await (
        await fetch(app.url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'))
      ).json();
      expect(metadata).toMatchObject({ resource: RESOURCE, authorization_servers: [idp.issuer] });

      const read = await idp.token('agent-a', RESOURCE, 'infra-mcp:read');
      const ok = await post(app.url, read, call('kv_get', { key: 'a' }));
      expect(ok.status).toBe(200);
      const denied = await post(app.url, read, call('kv_set', { key: 'a', value: '2' }));
      expect(denied.status).toBe(403);
      expect(denied.headers.get('www-authenticate')).toContain('scope="infra-mcp:write"');

      const records = readFileSync(audit, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((r) => r.tool);
      expect(records.map((r) => [r.tool, r.caller, r.outcome])).toEqual([
        ['kv_get', 'oauth:agent-a', 'ok'],
        ['kv_set', 'oauth:agent-a', 'denied'],
      ]);
    } finally {
      await app.stop();
    }
  });

  it('doctor reaches the issuer discovery document and JWKS, and fails when the issuer is down', async () => {
    const env = {
      KV_URL: 'http://kv.local',
      INFRA_MCP_AUDIT_FILE: join(dir, 'doctor.jsonl'),
      INFRA_MCP_OAUTH_RESOURCE: RESOURCE,
    };
    const ok = await run(['doctor', '--plugin-module', KV_PLUGIN], {
      env: { ...env, INFRA_MCP_OAUTH_ISSUER: idp.issuer },
    });
    expect(ok.stdout).toMatch(
      new RegExp(`auth +oauth +ok +issuer ${idp.issuer}: JWKS ${idp.issuer}/jwks \\(1 key\\)`),
    );
    expect(ok.code).toBe(0);
    const down = await run(['doctor', '--plugin-module', KV_PLUGIN], {
      env: { ...env, INFRA_MCP_OAUTH_ISSUER: 'http://127.0.0.1:9' },
    });
    expect(down.stdout).toMatch(/auth +oauth +FAIL +issuer http:\/\/127.0.0.1:9: no discovery document/);
    expect(down.code).toBe(1);
  });

  it('says what is wrong with an OAuth config, naming the option', async () => {
    const half = await run(['config'], { env: { INFRA_MCP_OAUTH_ISSUER: idp.issuer }, cwd: dir });
    expect(half.code).toBe(2);
    expect(half.stderr).toMatch(
      /env INFRA_MCP_OAUTH_ISSUER: OAuth also needs resource: set auth.oauth.resource/,
    );

    const file = join(dir, 'bad-oauth.yaml');
    writeFileSync(
      file,
      'auth:\n  oauth:\n    issuer: http://auth.example.com\n    resource: https://mcp.example.com/mcp\n',
    );
    const insecure = await run(['config', '--config', file], { cwd: dir });
    expect(insecure.code).toBe(2);
    expect(insecure.stderr).toMatch(/auth.oauth.issuer: "http:\/\/auth.example.com" must use https/);

    writeFileSync(
      file,
      'auth:\n  oauth:\n    issuer: https://auth.example.com\n    resource: https://mcp.example.com/mcp\n    algorithms: [none]\n',
    );
    const none = await run(['config', '--config', file], { cwd: dir });
    expect(none.stderr).toMatch(/auth.oauth.algorithms: "none" is not accepted/);
  });
});
