import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, fixturesPath, requireBuilt, runNode, tempDir } from './helpers/app-process.js';

/**
 * End to end over stdio with an independent client: the MCP Inspector CLI
 * (`mcp-inspector --cli --method ... -- <command> ...`, @modelcontextprotocol/inspector 2.12) spawns
 * `infra-mcp` with the conformance fixture plugin, and prints the JSON result on stdout. Its
 * `--strict` check reports tool schemas that single-type clients reject.
 */
const require = createRequire(import.meta.url);
const inspectorDir = dirname(require.resolve('@modelcontextprotocol/inspector/package.json'));
const inspectorBin = join(inspectorDir, 'clients/launcher/build/index.js');

describe('infra-mcp over stdio, driven by the MCP Inspector CLI', () => {
  let work: string;
  let audit: string;

  beforeAll(() => {
    requireBuilt(cliPath, fixturesPath, inspectorBin);
    work = tempDir('inspector');
    audit = join(work, 'audit.jsonl');
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const inspect = async (method: string[], server: string[] = ['--plugin-module', fixturesPath]) => {
    const run = await runNode(
      [inspectorBin, '--cli', ...method, '--', process.execPath, cliPath, ...server, '--audit-file', audit],
      {
        cwd: work,
        env: cleanEnv(work),
        timeoutMs: 30_000,
      },
    );
    return { ...run, json: () => JSON.parse(run.stdout) };
  };

  it('lists the tools, calls one, and reports a bad argument as a tool error', async () => {
    const list = await inspect(['--method', 'tools/list']);
    expect(list.code, list.stderr).toBe(0);
    const tools = list.json().tools as {
      name: string;
      inputSchema: unknown;
      annotations: Record<string, unknown>;
    }[];
    const simple = tools.find((t) => t.name === 'test_simple_text');
    expect(simple).toMatchObject({ inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } });

    const call = await inspect(['--method', 'tools/call', '--tool-name', 'test_simple_text']);
    expect(call.code, call.stderr).toBe(0);
    expect(call.json()).toEqual({
      content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
      structuredContent: { message: 'This is a simple text response for testing.' },
    });

    // --tool-arg goes through core's validation: an argument the tool does not take is an isError result
    const bad = await inspect([
      '--method',
      'tools/call',
      '--tool-name',
      'test_simple_text',
      '--tool-arg',
      'unexpected=1',
    ]);
    expect(bad.code, bad.stderr).toBe(5); // the Inspector's exit code for an isError result
    const result = bad.json();
    expect(result.isError).toBe(true);
    expect(result._meta['infra-mcp/error'].code).toBe('invalid_arguments');
    expect(result.content[0].text).toContain('unknown argument unexpected');

    // both calls were audited by the server the inspector spawned
    const records = readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(records.map((r) => [r.tool, r.outcome])).toEqual([
      ['test_simple_text', 'ok'],
      ['test_simple_text', 'error'],
    ]);
  }, 60_000);

  it('--strict: every schema of the fixture plugin and of Prometheus (all toolsets) is portable', async () => {
    for (const [env, server] of [
      [[], ['--plugin-module', fixturesPath]],
      // the Inspector passes the server only the environment it is given (-e)
      [
        ['-e', 'PROMETHEUS_URL=http://127.0.0.1:9'],
        ['--toolsets', 'all'],
      ],
    ]) {
      const strict = await inspect([...env!, '--method', 'tools/list', '--strict'], server);
      expect(strict.code, strict.stderr).toBe(0);
      expect(strict.json().tools.length).toBeGreaterThan(9);
      // the Inspector prints each problem ("Warning: tool ...", "Error: tool ...") and a count line
      expect(strict.stderr).not.toMatch(/^(Warning|Error): tool/m);
      expect(strict.stderr).not.toMatch(/\d+ errors?, \d+ warnings?/);
    }
  }, 60_000);
});
