import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { KV_PLUGIN, run, runStdio } from './cli-helpers.js';
import { cliPath, requireBuilt } from './helpers/app-process.js';

let dir: string;
beforeAll(async () => {
  requireBuilt(cliPath);
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-cli-'));
});

async function configFile(name: string, yaml: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, yaml);
  return file;
}

describe('infra-mcp with no plugin configured', () => {
  it('serves stdio with zero tools', async () => {
    const r = await runStdio([], [{ method: 'tools/list' }], { INFRA_MCP_AUDIT_FILE: join(dir, 'a0.jsonl') });
    expect(r.byId.get(0).result.serverInfo.name).toBe('infra-mcp');
    expect(r.byId.get(1).result.tools).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('doctor says what to configure and exits non-zero', async () => {
    const r = await run(['doctor'], { env: { INFRA_MCP_AUDIT_FILE: join(dir, 'a1.jsonl') } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no plugin is configured, so the server offers no tools/);
  });
});

describe('configuration errors', () => {
  it('an unknown key names the file, the key and the known keys', async () => {
    const file = await configFile('unknown.yaml', 'maxbytes: 100\n');
    const r = await run(['tools', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file}: unknown key "maxbytes"; known keys here: plugins, policy, audit, approvals, tasks, maxBytes, timeoutMs, limits, tracing, resilience, http`,
    );
  });

  it('a wrong type names the key, the expected type and an example', async () => {
    const file = await configFile('type.yaml', 'http:\n  listen: 3000\n');
    const r = await run(['tools', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${file}: "http.listen": expected string, got number 3000; example: listen: "127.0.0.1:3000"`,
    );
  });

  it("a plugin's missing required option names the plugin key and an example", async () => {
    const file = await configFile('missing.yaml', 'plugins:\n  kv:\n    password: x\n');
    const r = await run(['tools', '--config', file, '--plugin-module', KV_PLUGIN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: "plugins.kv.url": required option is missing (expected string)`);
  });

  it('env values are validated too', async () => {
    const r = await run(['tools'], { env: { INFRA_MCP_MAX_BYTES: 'lots' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /env INFRA_MCP_MAX_BYTES: expected an integer >= 1024, got "lots"; example: INFRA_MCP_MAX_BYTES=16384/,
    );
    const kv = await run(['tools', '--plugin-module', KV_PLUGIN], { env: { KV_URL: 'not a url' } });
    expect(kv.code).toBe(2);
    expect(kv.stderr).toMatch(/env KV_URL: .*url/i);
  });

  it('an unknown plugin section lists the available plugins', async () => {
    const file = await configFile('plugin.yaml', 'plugins:\n  grafana: {}\n');
    const r = await run(['tools', '--config', file, '--plugin-module', KV_PLUGIN]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"plugins.grafana": unknown plugin; available: .*kv/);
  });

  it('an unknown flag is refused with usage help', async () => {
    const r = await run(['--colour']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--colour'/);
  });
});

describe('commands', () => {
  it('tools lists name, effect and schema size; --read-only hides writes', async () => {
    const r = await run(['tools', '--plugin-module', KV_PLUGIN], { env: { KV_URL: 'http://kv.local' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^TOOL\s+EFFECT\s+SCHEMA BYTES\nkv_get\s+read\s+\d+\nkv_set\s+write\s+\d+\n/);
    expect(r.stdout).toMatch(/tools\/list: 2 tools, \d+ bytes/);
    const ro = await run(['tools', '--read-only', '--plugin-module', KV_PLUGIN], {
      env: { KV_URL: 'http://kv.local' },
    });
    expect(ro.stdout).not.toMatch(/^kv_set/m);
    expect(ro.stdout).toMatch(/hidden by policy: kv_set/);
  });

  it('config prints the effective config with secrets redacted, env over file', async () => {
    const file = await configFile(
      'cfg.yaml',
      'plugins:\n  kv:\n    url: http://file.local\n    password: hunter22\nmaxBytes: 4096\n',
    );
    const r = await run(['config', '--config', file, '--plugin-module', KV_PLUGIN], {
      env: { KV_URL: 'http://env.local', INFRA_MCP_MAX_BYTES: '8192' },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/url: http:\/\/env.local/);
    expect(r.stdout).toMatch(/password: "?\[REDACTED\]"?/);
    expect(r.stdout).toMatch(/maxBytes: 8192/);
    expect(r.stdout).not.toMatch(/hunter22/);
  });

  it('doctor reaches each configured backend and fails when one is down', async () => {
    const ok = await run(['doctor', '--plugin-module', KV_PLUGIN], {
      env: { KV_URL: 'http://kv.local', INFRA_MCP_AUDIT_FILE: join(dir, 'd.jsonl') },
    });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/kv\s+default\s+ok\s+reached http:\/\/kv.local/);
    expect(ok.stdout).toMatch(/audit\s+chain\s+ok\s+0 records/);
    const down = await run(['doctor', '--plugin-module', KV_PLUGIN], {
      env: { KV_URL: 'http://down.local', INFRA_MCP_AUDIT_FILE: join(dir, 'd.jsonl') },
    });
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/kv\s+default\s+FAIL\s+cannot reach http:\/\/down.local/);
  });

  it('audit verify checks the chain written by real calls and finds a tampered record', async () => {
    const audit = join(dir, 'chain.jsonl');
    const env = { KV_URL: 'http://kv.local', INFRA_MCP_AUDIT_FILE: audit };
    const r = await runStdio(
      ['--plugin-module', KV_PLUGIN],
      [
        { method: 'tools/call', params: { name: 'kv_get', arguments: { key: 'a' } } },
        { method: 'tools/call', params: { name: 'kv_get', arguments: { key: 42 } } },
        { method: 'tools/call', params: { name: 'kv_set', arguments: { key: 'a', value: '2' } } },
      ],
      env,
    );
    expect(r.byId.get(1).result.structuredContent).toEqual({ key: 'a', value: '1' });
    expect(r.byId.get(2).result).toMatchObject({
      isError: true,
      _meta: { 'infra-mcp/error': { code: 'invalid_arguments' } },
    });
    expect(r.byId.get(3).result.structuredContent).toMatchObject({
      dryRun: true,
      preview: { key: 'a', to: '2' },
    });
    const ok = await run(['audit', 'verify'], { env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok: 3 records, chain intact/);
    const lines = (await readFile(audit, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace(/"resultBytes":\d+/, '"resultBytes":1');
    await writeFile(audit, lines.join('\n'));
    const bad = await run(['audit', 'verify', audit]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL: .* line 2 .*changed/);
    // doctor checks the chain too, and fails on a broken one
    const doctor = await run(['doctor', '--plugin-module', KV_PLUGIN], { env });
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/audit\s+chain\s+FAIL\s+.*changed/);
  });
});

describe('stdio from a script', () => {
  it('answers every request even when stdin ends right after them', async () => {
    const { stdioSession } = await import('./cli-helpers.js');
    const input = stdioSession([
      { method: 'tools/call', params: { name: 'kv_get', arguments: { key: 'a' } } },
      { method: 'tools/list' },
    ]);
    const r = await run(['--plugin-module', KV_PLUGIN], {
      input,
      env: { KV_URL: 'http://kv.local', INFRA_MCP_AUDIT_FILE: join(dir, 'pipe.jsonl') },
    });
    const ids = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id);
    expect(ids.sort()).toEqual([0, 1, 2]);
    expect(r.code).toBe(0);
  });
});

describe('enforced read-only', () => {
  it('--read-only cannot be lifted by a plugin policy in the config file', async () => {
    const file = await configFile(
      'lift.yaml',
      'plugins:\n  kv:\n    url: http://kv.local\n    policy:\n      readOnly: false\n',
    );
    const tools = await run(['tools', '--read-only', '--config', file, '--plugin-module', KV_PLUGIN]);
    expect(tools.stdout).toMatch(/hidden by policy: kv_set/);
    const env = { INFRA_MCP_AUDIT_FILE: join(dir, 'ro.jsonl') };
    const r = await runStdio(
      ['--read-only', '--config', file, '--plugin-module', KV_PLUGIN],
      [{ method: 'tools/call', params: { name: 'kv_set', arguments: { key: 'a', value: '2' } } }],
      env,
    );
    expect(r.byId.get(1).result).toMatchObject({
      isError: true,
      _meta: { 'infra-mcp/error': { code: 'denied_by_policy' } },
    });
    expect(r.byId.get(1).result.content[0].text).toMatch(/runs read-only \(--read-only\)/);
  });

  it('config redacts URL passwords and credential headers too', async () => {
    const file = await configFile(
      'secret-url.yaml',
      'plugins:\n  kv:\n    url: http://admin:pa55word99@kv.local\n',
    );
    const r = await run(['config', '--config', file, '--plugin-module', KV_PLUGIN], {
      env: { INFRA_MCP_AUDIT_FILE: join(dir, 'c.jsonl') },
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/pa55word99/);
    expect(r.stdout).toMatch(/admin:\[REDACTED\]@kv.local/);
  });
});

describe('--toolsets', () => {
  const env = { PROMETHEUS_URL: 'http://127.0.0.1:9' };
  const names = (stdout: string) => (JSON.parse(stdout).tools as { name: string }[]).map((t) => t.name);

  it('lists each plugin default toolsets, or the ones chosen; an unknown one names those there are', async () => {
    const byDefault = await run(['tools', '--json'], { env });
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(names(byDefault.stdout)).toContain('prometheus_query');
    expect(names(byDefault.stdout)).not.toContain('prometheus_targets');

    const chosen = await run(['tools', '--json', '--toolsets', 'prometheus/status,query'], { env });
    expect(chosen.code, chosen.stderr).toBe(0);
    expect(names(chosen.stdout)).toEqual([
      'prometheus_alerts',
      'prometheus_query',
      'prometheus_query_range',
      'prometheus_rules',
      'prometheus_status',
      'prometheus_targets',
    ]);
    const fromEnv = await run(['tools', '--json'], { env: { ...env, INFRA_MCP_TOOLSETS: 'all' } });
    expect(names(fromEnv.stdout)).toHaveLength(10);

    // the text listing tells tools left out by the toolset choice from tools hidden by policy
    const text = await run(['tools'], { env });
    expect(text.stdout).toMatch(
      /not in the chosen toolsets \(--toolsets all lists them\): .*prometheus_targets/,
    );
    expect(text.stdout).not.toMatch(/hidden by policy/);

    const bad = await run(['tools', '--toolsets', 'stauts'], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(
      'unknown toolset stauts; this server has prometheus/query, prometheus/discover',
    );
  });
});

describe('flags are checked at start, naming the flag and its range', () => {
  it.each([
    [['--max-bytes', '10'], '--max-bytes expects an integer >= 1024 (bytes), got "10"'],
    [['--max-bytes', 'lots'], '--max-bytes expects an integer >= 1024 (bytes), got "lots"'],
    [
      ['--log-level', 'loud'],
      '--log-level expects one of debug, info, notice, warning, error, critical, alert, emergency, got "loud"',
    ],
    [['--http', 'localhost'], '--http: expected host:port, got "localhost"'],
    [
      ['--allowed-hosts', 'https://mcp.example.com'],
      '--allowed-hosts: "https://mcp.example.com" is not a host name',
    ],
    [['--allowed-origins', 'app.example.com'], '--allowed-origins: "app.example.com" is not an origin'],
  ])('%j', async (args, message) => {
    const r = await run(['tools', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('environment values too', async () => {
    const level = await run(['tools'], { env: { INFRA_MCP_LOG_LEVEL: 'loud' } });
    expect(level.code).toBe(2);
    expect(level.stderr).toContain('env INFRA_MCP_LOG_LEVEL expects one of debug, info');
    const bytes = await run(['tools'], { env: { INFRA_MCP_MAX_BYTES: '10' } });
    expect(bytes.code).toBe(2);
    expect(bytes.stderr).toContain('env INFRA_MCP_MAX_BYTES: expected an integer >= 1024, got "10"');
  });
});

describe('--help and --plugins name only the plugins this build has', () => {
  it('--help lists the bundled plugins and advertises no others', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('plugins in this build: prometheus, proxmox');
    expect(r.stdout).toContain('--allowed-hosts');
    expect(r.stdout).not.toMatch(/kubernetes|infra-ops/i);
  });

  it('--plugins kubernetes says which plugins are available', async () => {
    const r = await run(['tools', '--plugins', 'kubernetes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--plugins: unknown plugin "kubernetes"; available: prometheus, proxmox');
  });
});

describe('infra-mcp call', () => {
  it('calls a tool in-process and prints its answer; a tool error exits 1', async () => {
    const env = { KV_URL: 'http://kv.local', INFRA_MCP_AUDIT_FILE: join(dir, 'call.jsonl') };
    const ok = await run(['call', 'kv_get', '{"key":"a"}', '--plugin-module', KV_PLUGIN], { env });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('1');
    const json = await run(['call', 'kv_get', '{"key":"a"}', '--json', '--plugin-module', KV_PLUGIN], {
      env,
    });
    expect(JSON.parse(json.stdout).structuredContent).toEqual({ key: 'a', value: '1' });
    const bad = await run(['call', 'kv_get', '{"nokey":1}', '--plugin-module', KV_PLUGIN], { env });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('invalid_arguments');
  });

  it('an unknown tool or malformed arguments exit 2 with the tools available', async () => {
    const env = { KV_URL: 'http://kv.local', INFRA_MCP_AUDIT_FILE: join(dir, 'call2.jsonl') };
    const unknown = await run(['call', 'kv_nope', '--plugin-module', KV_PLUGIN], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown tool "kv_nope"; tools: .*kv_get/);
    const malformed = await run(['call', 'kv_get', '{key:', '--plugin-module', KV_PLUGIN], { env });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('arguments must be one JSON object');
  });
});
