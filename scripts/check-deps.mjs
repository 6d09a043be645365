#!/usr/bin/env node
// Dependency rules of DESIGN.md, checked on every `pnpm test`:
// - only packages/core imports @modelcontextprotocol/sdk;
// - core imports no plugin; a plugin imports no other plugin (only @infra-mcp/core, and @infra-mcp/testing in tests);
// - one zod in the whole tree, taken from the pnpm catalog;
// - heavy backend clients (@kubernetes/client-node, @aws-sdk/*) are imported lazily (await import), never statically in src;
//   so is jose (OAuth): a server without auth.oauth never loads it;
// - nothing in a package's src writes to stdout with console.log (stdout is the stdio transport's wire).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const problems = [];

const workspaces = ['packages', 'apps']
  .flatMap((dir) => readdirSync(join(root, dir)).map((name) => join(root, dir, name)))
  .filter((dir) => {
    try {
      return statSync(join(dir, 'package.json')).isFile();
    } catch {
      return false;
    }
  });

function files(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'dist') out = out.concat(files(p));
    else if (/\.(ts|mts|js|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

const STATIC_IMPORT =
  /^\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;
const ANY_IMPORT = /(?:from\s+|import\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;
const HEAVY = [/^@kubernetes\/client-node/, /^@aws-sdk\//, /^jose$/];

const pkgs = workspaces.map((dir) => ({
  dir,
  json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')),
}));
const pluginNames = new Set(
  pkgs
    .map((p) => p.json.name)
    .filter((n) => n.startsWith('@infra-mcp/') && !['@infra-mcp/core', '@infra-mcp/testing'].includes(n)),
);

for (const { dir, json } of pkgs) {
  const name = json.name;
  const isCore = name === '@infra-mcp/core';
  const isApp = dir.includes('/apps/');
  for (const [kind, sub] of [
    ['src', 'src'],
    ['test', 'test'],
  ]) {
    for (const file of files(join(dir, sub))) {
      const text = readFileSync(file, 'utf8');
      const rel = relative(root, file);
      for (const m of text.matchAll(ANY_IMPORT)) {
        const spec = m[1];
        if (spec.startsWith('@modelcontextprotocol/sdk') && !isCore)
          problems.push(`${rel}: imports ${spec}; only @infra-mcp/core may use the MCP SDK`);
        if (spec.startsWith('@infra-mcp/')) {
          const target = spec.split('/').slice(0, 2).join('/');
          if (target === name) continue;
          if (isCore && target !== '@infra-mcp/testing')
            problems.push(`${rel}: core imports ${target}; core depends on no plugin`);
          if (isCore && target === '@infra-mcp/testing' && kind === 'src')
            problems.push(`${rel}: core src imports the testing harness`);
          if (!isCore && !isApp && pluginNames.has(target))
            problems.push(`${rel}: ${name} imports the plugin ${target}; plugins never import each other`);
          if (!isApp && target === '@infra-mcp/testing' && kind === 'src' && name !== '@infra-mcp/testing')
            problems.push(`${rel}: src imports @infra-mcp/testing (tests only)`);
        }
      }
      if (kind === 'src') {
        for (const m of text.matchAll(STATIC_IMPORT)) {
          const spec = m[1] ?? m[2];
          if (HEAVY.some((re) => re.test(spec)))
            problems.push(
              `${rel}: static import of ${spec}; heavy clients load lazily (await import) at first use`,
            );
        }
        if (!isApp && /console\.log\(/.test(text))
          problems.push(
            `${rel}: console.log writes to stdout, the stdio transport's wire; use ctx.log or stderr`,
          );
      }
    }
  }
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    const deps = json[field] ?? {};
    if (deps['@modelcontextprotocol/sdk'] && !isCore)
      problems.push(`${name}: ${field} lists @modelcontextprotocol/sdk; only core depends on it`);
    // a peer range says which zod a consumer may bring (the lockfile check below keeps one in this tree)
    if (field === 'peerDependencies' && deps.zod && !/^\^4\.\d+\.\d+$/.test(deps.zod))
      problems.push(`${name}: peerDependencies.zod is "${deps.zod}"; use a zod 4 range like "^4.0.0"`);
    else if (field !== 'peerDependencies' && deps.zod && deps.zod !== 'catalog:')
      problems.push(`${name}: ${field}.zod is "${deps.zod}"; use "catalog:" (one zod for the tree)`);
  }
}

const lock = readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8');
const zods = new Set([...lock.matchAll(/^ {2}zod@([^:(\s]+)/gm)].map((m) => m[1]));
if (zods.size !== 1)
  problems.push(
    `pnpm-lock.yaml resolves ${zods.size} versions of zod (${[...zods].join(', ')}); the tree must have exactly one`,
  );
const sdks = new Set([...lock.matchAll(/^ {2}'?@modelcontextprotocol\/sdk@([^:(\s']+)/gm)].map((m) => m[1]));
if (sdks.size > 1)
  problems.push(
    `pnpm-lock.yaml resolves several @modelcontextprotocol/sdk versions (${[...sdks].join(', ')})`,
  );

if (problems.length) {
  process.stderr.write(`dependency rules broken:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(
  `dependency rules: ok (${pkgs.length} packages, zod ${[...zods][0]}, sdk ${[...sdks][0]})\n`,
);
