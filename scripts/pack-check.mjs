#!/usr/bin/env node
// The packages as a user gets them. Packs every publishable package (pnpm pack: workspace: and
// catalog: specifiers become versions), checks each tarball's contents and metadata, installs the
// tarballs into a fresh project outside the repo (third-party dependencies from the npm registry),
// type-checks the root README's "Compose your own server" and "Write a plugin" examples with the
// newest and the previous TypeScript major (strict, nodenext, no @types/node), and runs them: the
// composed server answers tools/list over stdio, and the installed `infra-mcp` CLI loads the plugin
// and calls its tool.
//
//   pnpm build && node scripts/pack-check.mjs [--keep]     (CI: .ci/run, after pnpm test)
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TS_MAJORS = ['7', '6']; // the newest TypeScript major and the previous one (npm view typescript dist-tags)
const keep = process.argv.includes('--keep');
const problems = [];
const log = (m) => process.stderr.write(`pack-check: ${m}\n`);
const sh = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

// 1. The publishable packages
const pkgs = ['packages', 'apps'].flatMap((ws) =>
  readdirSync(join(root, ws))
    .map((d) => join(root, ws, d))
    .filter((d) => existsSync(join(d, 'package.json')))
    .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
    .filter((p) => !p.json.private),
);
for (const p of pkgs)
  if (!existsSync(join(p.dir, 'dist'))) throw new Error(`${p.json.name}: no dist/; run pnpm build first`);

const work = mkdtempSync(join(tmpdir(), 'infra-mcp-pack-check-'));
const tarballs = join(work, 'tarballs');
mkdirSync(tarballs);

// 2. Pack, and check what each tarball holds
const packed = [];
for (const p of pkgs) {
  const out = sh('pnpm', ['pack', '--pack-destination', tarballs], { cwd: p.dir }).trim().split('\n');
  const tgz = out.find((l) => l.endsWith('.tgz'))?.trim();
  if (!tgz) throw new Error(`${p.json.name}: pnpm pack printed no tarball:\n${out.join('\n')}`);
  const file = tgz.startsWith('/') ? tgz : join(tarballs, tgz);
  const list = sh('tar', ['tzf', file]).split('\n').filter(Boolean);
  const json = JSON.parse(sh('tar', ['xzf', file, '-O', 'package/package.json']));
  const name = json.name;
  for (const f of ['package/LICENSE', 'package/README.md', 'package/package.json'])
    if (!list.includes(f)) problems.push(`${name}: tarball lacks ${f.slice(8)}`);
  for (const k of ['repository', 'homepage', 'bugs', 'license'])
    if (!json[k]) problems.push(`${name}: package.json has no "${k}"`);
  if (json.type !== 'module') problems.push(`${name}: not "type": "module" (the README says ESM only)`);
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [dep, spec] of Object.entries(json[field] ?? {})) {
      if (/^(workspace|catalog):/.test(spec))
        problems.push(`${name}: ${field}.${dep} is "${spec}" after pack`);
      else if (/^\d/.test(spec))
        problems.push(`${name}: ${field}.${dep} is pinned exactly ("${spec}"); use a range (^${spec})`);
    }
  }
  if (json.bin) {
    const maps = list.filter((f) => f.endsWith('.map'));
    if (maps.length) problems.push(`${name}: ships ${maps.length} source maps (${maps[0]}, ...)`);
    for (const dep of ['zod', '@modelcontextprotocol/sdk', 'ajv', 'yaml', '@infra-mcp/core'])
      if (json.dependencies?.[dep])
        problems.push(`${name}: bundles ${dep} and also lists it as a dependency`);
  }
  if (name === '@infra-mcp/prometheus' && json.dependencies?.['@aws-sdk/credential-providers'])
    problems.push(`${name}: the AWS SDK must be an optional peer dependency, not a dependency`);
  const bytes = Number(sh('stat', ['-c', '%s', file]).trim());
  log(`${name}: ${list.length} files, ${(bytes / 1024).toFixed(0)} KiB packed`);
  packed.push({ name, file });
}

// 3. The README's examples
const readme = readFileSync(join(root, 'README.md'), 'utf8');
function example(heading) {
  const at = readme.indexOf(`## ${heading}`);
  const m = at < 0 ? null : /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!m) throw new Error(`README.md: no ts example under "## ${heading}"`);
  return m[1];
}
const compose = example('Compose your own server');
const plugin = example('Write a plugin');

// 4. A fresh project: the tarballs, both TypeScript majors, nothing else from the repo
const proj = join(work, 'consumer');
mkdirSync(proj);
writeFileSync(
  join(proj, 'package.json'),
  `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`,
);
writeFileSync(join(proj, 'compose.ts'), compose);
writeFileSync(join(proj, 'hello.ts'), plugin);
writeFileSync(
  join(proj, 'tsconfig.json'),
  `${JSON.stringify(
    {
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        types: [],
      },
      files: ['compose.ts', 'hello.ts'],
    },
    null,
    2,
  )}\n`,
);
log(`npm install (the tarballs, zod, typescript@${TS_MAJORS.join(', typescript@')}) in ${proj}`);
sh(
  'npm',
  [
    'install',
    '--no-audit',
    '--no-fund',
    '--loglevel=error',
    ...packed.map((p) => p.file),
    'zod',
    ...TS_MAJORS.map((v) => `typescript${v}@npm:typescript@${v}`),
  ],
  { cwd: proj, stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 }, // a stuck registry fails CI, not hangs it
);

for (const v of TS_MAJORS) {
  const tscBin = join(proj, `node_modules/typescript${v}/bin/tsc`);
  const version = sh(process.execPath, [tscBin, '--version'], { cwd: proj }).trim();
  try {
    sh(process.execPath, [tscBin, '-p', '.'], { cwd: proj });
    log(`${version}: README examples type-check`);
  } catch (err) {
    problems.push(`${version}: README examples do not type-check:\n${err.stdout}${err.stderr}`);
  }
}

// 5. Run them
async function stdioToolsList(file) {
  const msgs = [
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'pack-check', version: '1' },
      },
    },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { jsonrpc: '2.0', id: 2, method: 'tools/list' },
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], {
      cwd: proj,
      env: { PATH: process.env.PATH, HOME: proj, XDG_STATE_HOME: join(proj, 'state') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.on('data', (c) => {
      out += c;
      if (out.includes('"id":2')) child.stdin.end();
    });
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const answer = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((m) => m.id === 2);
      resolve({ tools: answer?.result?.tools?.map((t) => t.name) ?? [], stderr: err });
    });
    child.stdin.write(`${msgs.map((m) => JSON.stringify(m)).join('\n')}\n`);
  });
}

const composed = await stdioToolsList(join(proj, 'compose.ts'));
if (composed.tools.includes('prometheus_query'))
  log(`compose example: tools/list answers ${composed.tools.length} tools`);
else problems.push(`compose example: no prometheus_query in tools/list; stderr:\n${composed.stderr}`);

try {
  const cli = join(proj, 'node_modules/.bin/infra-mcp');
  const out = sh(cli, ['call', 'hello_greet', '{"name":"Ada"}', '--plugin-module', './hello.ts'], {
    cwd: proj,
    env: { PATH: process.env.PATH, HOME: proj, XDG_STATE_HOME: join(proj, 'state') },
  });
  if (out.includes('hello, Ada'))
    log('plugin example: installed infra-mcp CLI loads it; hello_greet answers');
  else problems.push(`plugin example: hello_greet answered ${JSON.stringify(out)}`);
} catch (err) {
  problems.push(
    `plugin example: infra-mcp call hello_greet failed:\n${err.stdout ?? ''}${err.stderr ?? err}`,
  );
}

if (!keep) rmSync(work, { recursive: true, force: true });
else log(`kept ${work}`);
if (problems.length) {
  process.stderr.write(
    `pack-check: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
  process.exit(1);
}
log('ok');
