import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, fixturesPath, requireBuilt, runNode, tempDir } from './helpers/app-process.js';

/**
 * End to end over stdio with an independent client: the MCP Inspector CLI
 * (`mcp-inspector --cli <command> ... --method ...`, @modelcontextprotocol/inspector 1.0.3) spawns
 * `infra-mcp` with the conformance fixture plugin, and prints the JSON result on stdout.
 */
const require = createRequire(import.meta.url);
const inspectorDir = dirname(require.resolve('@modelcontextprotocol/inspector/package.json'));
const inspectorBin = join(inspectorDir, 'cli/build/cli.js');

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

  const inspect = async (...method: string[]) => {
    const run = await runNode(
      [
        inspectorBin,
        '--cli',
        process.execPath,
        cliPath,
        '--plugin-module',
        fixturesPath,
        '--audit-file',
        audit,
        ...method,
      ],
      {
        cwd: work,
        env: cleanEnv(work),
        timeoutMs: 30_000,
      },
    );
    return { ...run, json: () => JSON.parse(run.stdout) };
  };

  it('lists the tools, calls one, and reports a bad argument as a tool error', async () => {
    const list = await inspect('--method', 'tools/list');
    expect(list.code, list.stderr).toBe(0);
    const tools = list.json().tools as {
      name: string;
      inputSchema: unknown;
      annotations: Record<string, unknown>;
    }[];
    const simple = tools.find((t) => t.name === 'test_simple_text');
    expect(simple).toMatchObject({ inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } });

    const call = await inspect('--method', 'tools/call', '--tool-name', 'test_simple_text');
    expect(call.code, call.stderr).toBe(0);
    expect(call.json()).toEqual({
      content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
      structuredContent: { message: 'This is a simple text response for testing.' },
    });

    // --tool-arg goes through core's validation: an argument the tool does not take is an isError result
    const bad = await inspect(
      '--method',
      'tools/call',
      '--tool-name',
      'test_simple_text',
      '--tool-arg',
      'unexpected=1',
    );
    expect(bad.code, bad.stderr).toBe(0);
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
});
