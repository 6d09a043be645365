/**
 * Every example in every README.md is checked, so the docs cannot rot:
 * - ```yaml config examples are loaded and validated by the app (config loader + each plugin's schema);
 * - ```json client configs (`mcpServers`) are run through the built CLI's flag and env checks; other
 *   ```json blocks (tool arguments) must parse;
 * - ```ts examples are type-checked as a consumer would (strict, nodenext, no @types/node), and run:
 *   a composed server answers tools/list over stdio, a plugin is loaded by the CLI and its tool called.
 * A block is left out only when the line before its fence is `<!-- readme-check: skip (reason) -->`,
 * or it is listed in FRAGMENTS below (snippets in READMEs of other packages that refer to names
 * defined elsewhere).
 * Also: no Markdown file names an absolute path of one machine.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { run } from '../cli-helpers.js';
import { cliPath, requireBuilt, root } from '../helpers/app-process.js';

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
  skip?: string;
}

function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.git', '.tmp', '.turbo'].includes(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) markdownFiles(p, out);
    else if (e.name.endsWith('.md')) out.push(p);
  }
  return out;
}

function blocks(file: string): Block[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
    const prev = lines
      .slice(0, start)
      .reverse()
      .find((l) => l.trim() !== '');
    const skip = /<!--\s*readme-check:\s*skip\b(.*)-->/.exec(prev ?? '')?.[1]?.trim();
    found.push({ file: relative(root, file), line: start + 1, lang: open[1]!, code: body.join('\n'), skip });
  }
  return found;
}

const mdFiles = markdownFiles(root);
const readmes = mdFiles.filter((f) => f.endsWith('README.md'));
const all = readmes.flatMap(blocks);
const checked = (lang: string) => all.filter((b) => b.lang === lang && b.skip === undefined);
const where = (b: Block) => `${b.file}:${b.line}`;

/**
 * ```ts snippets in READMEs this app does not own that are fragments (an object literal's `run`,
 * names like `myPlugin` defined elsewhere): not compiled. The count is pinned, so a new block
 * anywhere needs a decision (make it a whole example, or list it here with its reason).
 */
const FRAGMENTS: Record<string, { count: number; reason: string }> = {
  'packages/core/README.md': {
    count: 11,
    reason: 'API tour: myPlugin, NotesClient, ctx, jobs, diffs, config are placeholders',
  },
  'packages/testing/README.md': {
    count: 2,
    reason: 'harness tour: myPlugin, url and mine() are placeholders',
  },
};
const tsBlocks = checked('ts').filter((b) => !(b.file in FRAGMENTS));

let work: string;
beforeAll(() => {
  requireBuilt(cliPath);
  // inside apps/server, so the examples resolve @infra-mcp/*, zod from its node_modules like a consumer's
  work = join(root, 'apps/server/.tmp/readme-examples');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'package.json'), '{ "type": "module", "private": true }\n');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('README examples', () => {
  it('finds the examples it is meant to check', () => {
    expect(readmes.map((f) => relative(root, f))).toEqual(
      expect.arrayContaining(['README.md', 'apps/server/README.md', 'packages/prometheus/README.md']),
    );
    expect(checked('yaml').length).toBeGreaterThanOrEqual(2);
    expect(checked('json').filter((b) => b.code.includes('mcpServers')).length).toBeGreaterThanOrEqual(3);
    expect(tsBlocks.map(where)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^README\.md:/),
        expect.stringMatching(/^packages\/prometheus/),
      ]),
    );
    const skipped = all.filter((b) => b.skip !== undefined);
    for (const b of skipped) expect(b.skip, `${where(b)}: a skip marker gives its reason`).toMatch(/\w{3,}/);
    expect(skipped.length, 'keep skipped examples few').toBeLessThanOrEqual(3);
    for (const [file, { count }] of Object.entries(FRAGMENTS))
      expect(
        checked('ts').filter((b) => b.file === file).length,
        `${file}: ts fragments (see FRAGMENTS)`,
      ).toBe(count);
  });

  it.each(checked('yaml').map((b) => [where(b), b] as const))('yaml %s loads and validates', async (_, b) => {
    const file = join(work, `config-${b.line}.yaml`);
    writeFileSync(file, `${b.code}\n`);
    const app = await buildApp({ config: file, pluginModules: [] }, {}, 'error');
    // every plugin section was resolved against the plugin's own schema
    const sections = Object.keys(app.loaded.config.plugins);
    expect(app.server.registry.runtimes.map((r) => r.plugin.id).sort()).toEqual(sections.sort());
    await app.server.close();
  });

  it.each(checked('json').map((b) => [where(b), b] as const))('json %s', async (_, b) => {
    const value = JSON.parse(b.code);
    if (!value.mcpServers) return; // tool arguments: parsing is the check
    for (const [name, server] of Object.entries<any>(value.mcpServers)) {
      const args: string[] = server.args ?? [];
      let flags: string[];
      if (server.command === 'npx') {
        expect(args, `${name}: npx runs the infra-mcp package`).toContain('infra-mcp');
        flags = args.slice(args.indexOf('infra-mcp') + 1);
      } else {
        expect(server.command).toBe('node');
        expect(args[0], `${name}: node runs the built CLI of a checkout`).toMatch(
          /\/apps\/server\/dist\/cli\.js$/,
        );
        flags = args.slice(1);
      }
      const r = await run([...flags, 'config'], {
        env: { ...server.env, INFRA_MCP_AUDIT_FILE: join(work, 'audit.jsonl') },
        cwd: work,
      });
      expect(r.stderr, `${where(b)} ${name}`).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('ts examples type-check for a consumer (strict, nodenext, no @types/node)', async () => {
    const files = tsBlocks.map((b, i) => {
      const f = `example-${i}.ts`;
      writeFileSync(join(work, f), `// ${where(b)}\n${b.code}\n`);
      return f;
    });
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          types: [],
          allowImportingTsExtensions: true,
        },
        files,
      }),
    );
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const out = await new Promise<string>((resolve) =>
      execFile(process.execPath, [tsc, '-p', work], { cwd: work }, (_err, stdout, stderr) =>
        resolve(stdout + stderr),
      ),
    );
    expect(out).toBe('');
  }, 60_000);

  it.each(tsBlocks.filter((b) => b.code.includes('serveStdio(')).map((b) => [where(b), b] as const))(
    'ts %s (a composed server) runs and answers tools/list over stdio',
    async (_, b) => {
      const file = join(work, `run-${b.line}-${b.file.replace(/\W/g, '_')}.ts`);
      writeFileSync(file, b.code);
      const lines = [
        {
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'readme', version: '1' },
          },
        },
        { jsonrpc: '2.0', method: 'notifications/initialized' },
        { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      ];
      const stdout = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [file], {
          cwd: work,
          env: { PATH: process.env.PATH, HOME: work, XDG_STATE_HOME: join(work, 'state') },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        let out = '';
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.stdout.on('data', (c) => {
          out += c;
          if (out.includes('"id":2')) child.stdin.end();
        });
        child.on('error', reject);
        child.on('close', () => {
          clearTimeout(timer);
          resolve(out);
        });
        child.stdin.write(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      });
      const list = stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((m) => m.id === 2);
      // every plugin factory the example imports from a plugin package lists its tools
      const names: string[] = list?.result?.tools?.map((t: any) => t.name) ?? [];
      const factories = [...b.code.matchAll(/import \{([^}]+)\} from '@infra-mcp\/(?!core)[\w-]+'/g)].flatMap(
        (m) => m[1]!.split(',').map((x) => x.trim().replace(/^type\s+/, '')),
      );
      expect(factories.length, 'the example imports a plugin').toBeGreaterThan(0);
      for (const f of factories)
        expect(
          names.some((n) => n.startsWith(`${f}_`)),
          `${f}_* listed`,
        ).toBe(true);
    },
    30_000,
  );

  it('ts README.md "Write a plugin": the CLI loads it and calls hello_greet', async () => {
    const b = tsBlocks.find((x) => x.file === 'README.md' && x.code.includes('definePlugin('));
    expect(b, 'the root README has a plugin example').toBeDefined();
    const file = join(work, 'hello.ts');
    writeFileSync(file, b!.code);
    const r = await run(['call', 'hello_greet', '{"name":"Ada"}', '--plugin-module', file], {
      env: { INFRA_MCP_AUDIT_FILE: join(work, 'audit.jsonl') },
      cwd: work,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('hello, Ada');
    expect(r.code).toBe(0);
  });
});

describe('Markdown files', () => {
  it.each(mdFiles.map((f) => [relative(root, f)]))('%s names no absolute path of one machine', (f) => {
    const text = readFileSync(join(root, f), 'utf8');
    expect(text).not.toMatch(/(^|[\s"'`(=])\/(work|root|Users|home\/[a-z][\w-]*)\//m);
  });
});
