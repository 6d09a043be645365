import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { KV_PLUGIN, run, runStdio } from './cli-helpers.js';
import { cliPath, requireBuilt } from './helpers/app-process.js';

const SINK = fileURLToPath(new URL('./fixtures/audit-sink.mjs', import.meta.url));
let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  requireBuilt(cliPath);
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-audit-'));
  // the key and the head checkpoint live apart from the log: here, in a temp config dir
  env = { KV_URL: 'http://kv.local', XDG_CONFIG_HOME: join(dir, 'config') };
});

const calls = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    method: 'tools/call',
    params: { name: 'kv_get', arguments: { key: `k${i}` } },
  }));

describe('infra-mcp audit', () => {
  it('a sink named in the config comes from a module; every record reaches it, chained', async () => {
    const config = join(dir, 'sinks.yaml');
    const file = join(dir, 'sinks.jsonl');
    const side = join(dir, 'side.jsonl');
    await writeFile(
      config,
      `audit:\n  file: ${file}\n  sinks:\n    - jsonl\n    - module: ${SINK}\n      export: fileSink\n      options: { path: ${side} }\n`,
    );
    const r = await runStdio(['--config', config, '--plugin-module', KV_PLUGIN], calls(2), env);
    expect(r.byId.get(2).result.structuredContent).toBeDefined();
    const viaSink = (await readFile(side, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(viaSink.map((l) => [l.via, l.record.tool, l.record.seq])).toEqual([
      ['fixture', 'kv_get', 1],
      ['fixture', 'kv_get', 2],
    ]);
    const jsonl = (await readFile(file, 'utf8')).trim().split('\n');
    expect(jsonl.map((l) => JSON.parse(l).hash)).toEqual(viaSink.map((l) => l.record.hash));

    await writeFile(config, `audit:\n  sinks:\n    - module: ${SINK}\n      export: notASink\n`);
    const bad = await run(['tools', '--config', config], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(
      /audit.sinks: module .*audit-sink.mjs: export "notASink" is not an audit sink/,
    );
  });

  it('verify reports chains, finds removed newest records, and a missing file is an error', async () => {
    const file = join(dir, 'verify.jsonl');
    const e = { ...env, INFRA_MCP_AUDIT_FILE: file };
    await runStdio(['--plugin-module', KV_PLUGIN], calls(3), e);
    await runStdio(['--plugin-module', KV_PLUGIN], calls(1), e);
    const ok = await run(['audit', 'verify'], { env: e });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^ok: 4 records, chain intact \(.*verify.jsonl\); 2 chains$/m);
    expect(ok.stdout).toMatch(/^ {2}chain [0-9a-f]{12}: 3 records, seq 1..3$/m);

    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    await writeFile(file, `${lines.slice(0, 3).join('\n')}\n`);
    const cut = await run(['audit', 'verify'], { env: e });
    expect(cut.code).toBe(1);
    expect(cut.stdout).toMatch(/FAIL: .*verify.jsonl: the newest records were removed or replaced/);

    const missing = await run(['audit', 'verify', join(dir, 'nope.jsonl')], { env: e });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/audit file not found/);
  });

  it('verify --sink checks every chain a shared sink holds (one per process) and finds a changed record', async () => {
    const config = join(dir, 'shared.yaml');
    const side = join(dir, 'shared-side.jsonl');
    await writeFile(
      config,
      `audit:\n  file: ${join(dir, 'shared.jsonl')}\n  sinks:\n    - jsonl\n    - module: ${SINK}\n      export: fileSink\n      options: { path: ${side} }\n`,
    );
    // two processes writing to one sink, as replicas do: two chains
    await runStdio(['--config', config, '--plugin-module', KV_PLUGIN], calls(2), env);
    await runStdio(['--config', config, '--plugin-module', KV_PLUGIN], calls(3), env);
    const ok = await run(['audit', 'verify', '--sink', 'fixture-file', '--config', config], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^ok: 5 records, chain intact \(fixture-file\); 2 chains$/m);
    expect(ok.stdout).toMatch(/^ {2}chain [0-9a-f]{12}: 3 records, seq 1..3$/m);
    expect(ok.stdout).toMatch(/warning: no head checkpoint \(fixture-file keeps none\)/);

    const lines = (await readFile(side, 'utf8')).trim().split('\n');
    const changed = JSON.parse(lines[1]!);
    changed.record.args = { key: 'someone-else' };
    lines[1] = JSON.stringify(changed);
    await writeFile(side, `${lines.join('\n')}\n`);
    const bad = await run(['audit', 'verify', '--sink', 'fixture-file', '--config', config], { env });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /FAIL: fixture-file record \d+ \(record [^)]+\): record content does not match its hash/,
    );

    const unknown = await run(['audit', 'verify', '--sink', 'nope', '--config', config], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no audit sink named "nope" in audit.sinks; configured: .*fixture-file/);
  });
});
