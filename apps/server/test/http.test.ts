import { mkdtemp, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KV_PLUGIN } from './cli-helpers.js';
import { cleanEnv, cliPath, requireBuilt, startHttpApp } from './helpers/app-process.js';

const TOKEN = 'e2e-token-0123456789abcdef';
let dir: string;
beforeAll(async () => {
  requireBuilt(cliPath);
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-http-'));
});

const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
const init = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

/** Parse a Streamable HTTP answer (JSON or an SSE stream) into its JSON-RPC messages. */
async function messages(res: Response): Promise<any[]> {
  const text = await res.text();
  if (res.headers.get('content-type')?.includes('text/event-stream')) {
    return text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
  }
  return [JSON.parse(text)];
}

describe('infra-mcp --http', () => {
  it('serves /mcp with bearer auth, exposes metrics, and stops gracefully on SIGTERM', async () => {
    const server = await startHttpApp(['--plugin-module', KV_PLUGIN], {
      cwd: dir,
      env: cleanEnv(dir, {
        KV_URL: 'http://kv.local',
        INFRA_MCP_TOKENS: `ci:${TOKEN}`,
        INFRA_MCP_AUDIT_FILE: join(dir, 'audit.jsonl'),
      }),
    });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);

    const denied = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify(init) });
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const auth = { ...headers, authorization: `Bearer ${TOKEN}` };
    const [initialized] = await messages(
      await fetch(server.url, { method: 'POST', headers: auth, body: JSON.stringify(init) }),
    );
    expect(initialized.result.serverInfo.name).toBe('infra-mcp');

    const call = {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'kv_get', arguments: { key: 'a' } },
    };
    const answer = await messages(
      await fetch(server.url, {
        method: 'POST',
        headers: { ...auth, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify(call),
      }),
    );
    expect(answer.at(-1).result.structuredContent).toEqual({ key: 'a', value: '1' });

    const metrics = await (await fetch(server.url.replace('/mcp', '/metrics'))).text();
    expect(metrics).toMatch(/infra_mcp_tool_calls_total\{tool="kv_get",outcome="ok"\} 1/);

    const exited = new Promise<number | null>((resolve) => server.child.on('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(server.stderr()).toMatch(/SIGTERM: finishing in-flight requests, then stopping/);
  });

  it('refuses a non-loopback address without tokens', async () => {
    await expect(
      // the later --http wins over the launcher's loopback default
      startHttpApp(['--http', '0.0.0.0:0'], { cwd: dir, env: cleanEnv(dir) }),
    ).rejects.toThrow(/without bearer tokens/);
  });

  it('accepts the Host headers and Origins given by --allowed-hosts / INFRA_MCP_ALLOWED_ORIGINS, refuses others', async () => {
    const server = await startHttpApp(['--allowed-hosts', 'mcp.example.com,10.1.2.3:3000'], {
      cwd: dir,
      env: cleanEnv(dir, {
        INFRA_MCP_ALLOWED_ORIGINS: 'https://app.example.com',
        INFRA_MCP_AUDIT_FILE: join(dir, 'audit-hosts.jsonl'),
      }),
    });
    try {
      expect(await status(server.url, { host: 'mcp.example.com:3000' })).toBe(200);
      expect(await status(server.url, { host: '10.1.2.3:3000' })).toBe(200);
      expect(await status(server.url, { host: 'other.example.com:3000' })).toBe(403);
      expect(await status(server.url, { origin: 'https://app.example.com' })).toBe(200);
      expect(await status(server.url, { origin: 'https://evil.example.com' })).toBe(403);
    } finally {
      await server.stop();
    }
  });

  it('applies http.rateLimit, http.compressMinBytes and origin patterns from infra-mcp.yaml', async () => {
    const config = join(dir, 'hardening.yaml');
    await writeFile(
      config,
      [
        'http:',
        "  allowedOrigins: ['https://*.example.com']",
        '  rateLimit: { rate: 0.01, burst: 1 }',
        '  compressMinBytes: 100',
      ].join('\n'),
    );
    const server = await startHttpApp(['--config', config], {
      cwd: dir,
      env: cleanEnv(dir, { INFRA_MCP_AUDIT_FILE: join(dir, 'audit-hardening.jsonl') }),
    });
    try {
      const post = (extra: Record<string, string>) =>
        fetch(server.url, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(init) });
      expect((await post({ origin: 'https://evil.example.net' })).status).toBe(403);
      const ok = await post({ origin: 'https://app.example.com', 'accept-encoding': 'gzip' });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-encoding')).toBe('gzip');
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect((await messages(ok))[0].result.serverInfo.name).toBe('infra-mcp');
      const limited = await post({});
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('100');
      expect(((await limited.json()) as any).error.message).toMatch(/the limit is 0\.01 requests per second/);
    } finally {
      await server.stop();
    }
  });

  it('refuses an allowed origin that is not an origin pattern, at start', async () => {
    const config = join(dir, 'bad-origin.yaml');
    await writeFile(config, "http:\n  allowedOrigins: ['app.example.com']\n");
    await expect(startHttpApp(['--config', config], { cwd: dir, env: cleanEnv(dir) })).rejects.toThrow(
      /"app\.example\.com" is not an origin \(scheme:\/\/host\[:port\], no path; \* for any host-name characters\)/,
    );
  });
});

/** POST an initialize with extra headers (fetch cannot set Host); resolve with the status code. */
function status(url: string, extra: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, ...extra } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(JSON.stringify(init));
  });
}
