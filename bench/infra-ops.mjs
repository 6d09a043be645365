#!/usr/bin/env node
// @infra-mcp/infra-ops figures:
// - argocd_apps against a 200-app fake Argo CD: bytes of the raw list, of the `fields` projection the
//   tool asks for, of the answer, per app;
// - the command runner's overhead per call versus a bare child_process.spawn of the same binary (the
//   terraform stand-in, and the real helm 4 from @infra-mcp/testing/kube);
// - the size of a terraform_plan answer versus the raw `show -json` (largest vendored plan, and a
//   generated 500-resource plan);
// - tools/list bytes of each plugin and of each of its toolsets.
//
//   pnpm build && node bench/infra-ops.mjs [--runs 200]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, MemoryAuditSink } from '../packages/core/dist/index.js';
import { argocd, aws, childEnv, helm, run, terraform } from '../packages/infra-ops/dist/index.js';
import { startArgoFake } from '../packages/infra-ops/test/argocd-fake.ts';
import { generatePlan } from '../packages/infra-ops/test/generate-plan.ts';
import { kubeBinaries } from '../packages/testing/dist/kube.js';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 200;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const bytes = (r) =>
  Buffer.byteLength(JSON.stringify(r.structuredContent)) + Buffer.byteLength(r.content[0].text);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const server = (plugins) => createServer({ plugins, audit: [new MemoryAuditSink()], logger: quiet, env: {} });

// ---- Argo CD
const fake = await startArgoFake({ apps: 200 });
const auth = { authorization: `Bearer ${fake.token}` };
const raw = await (await fetch(`${fake.url}/api/v1/applications`, { headers: auth })).text();
const argo = server([argocd({ url: fake.url, token: fake.token })]);
const apps = await argo.callTool('argocd_apps', { maxBytes: 32768 });
const last = fake.requests.at(-1);
const projected = await (
  await fetch(
    `${fake.url}/api/v1/applications?fields=${encodeURIComponent(
      'items.metadata.name,items.spec.project,items.spec.destination.namespace,items.spec.destination.server,items.spec.destination.name,items.status.sync.status,items.status.health.status',
    )}`,
    { headers: auth },
  )
).text();
const page = await argo.callTool('argocd_apps', {});
const one = await argo.callTool('argocd_app', { app: 'app-003' });
const rawOne =
  (await (await fetch(`${fake.url}/api/v1/applications/app-003`, { headers: auth })).text()).length +
  (await (await fetch(`${fake.url}/api/v1/applications/app-003/resource-tree`, { headers: auth })).text())
    .length;
console.log('argocd (200 apps)');
console.log(
  `  raw list ${kb(raw.length)}; fields projection asked (${last.query.join(',')}) ${kb(projected.length)}`,
);
console.log(
  `  argocd_apps, all 200 (maxBytes 32768): ${kb(bytes(apps))} = ${(bytes(apps) / 200).toFixed(1)} B/app`,
);
console.log(
  `  argocd_apps, default budget: ${page.structuredContent.apps.length} apps in ${kb(bytes(page))}, cursor ${page.structuredContent.nextCursor ? 'yes' : 'no (all fit)'}`,
);
console.log(`  argocd_app app-003: ${bytes(one)} B (raw app + resource tree ${kb(rawOne)})`);
await fake.close();

// ---- runner overhead
const root = mkdtempSync(join(tmpdir(), 'infra-ops-bench-'));
const standin = join(import.meta.dirname, '../packages/infra-ops/test/fixtures/bin/terraform');
mkdirSync(join(root, 'w'));
writeFileSync(join(root, 'w', 'standin.json'), JSON.stringify({ plan: '110_basic' }));
/** Median ms of a bare spawn and of the runner, interleaved, for the same binary and argv. */
async function overhead(binary, args, cwd) {
  // the environment the runner would pass, so the difference is the runner's own work
  const env = childEnv({ from: process.env, allow: ['PATH', 'HOME'] });
  const bare = (detached = false) =>
    new Promise((resolve) => {
      const c = spawn(binary, args, { cwd, env, detached, stdio: ['ignore', 'pipe', 'pipe'] });
      c.stdout.resume();
      c.stderr.resume();
      c.on('close', resolve);
    });
  const viaRunner = () =>
    run({
      binary,
      binaryKey: 'x',
      args,
      cwd,
      env: { from: process.env, allow: ['PATH', 'HOME'] },
      timeoutMs: 10_000,
      maxOutputBytes: 65536,
      mask: (s) => s,
    });
  const tb = [];
  const td = [];
  const tr = [];
  for (let i = 0; i < 5; i++) {
    await bare();
    await viaRunner();
  }
  for (let i = 0; i < RUNS; i++) {
    let t = performance.now();
    await bare();
    tb.push(performance.now() - t);
    t = performance.now();
    await bare(true);
    td.push(performance.now() - t);
    t = performance.now();
    await viaRunner();
    tr.push(performance.now() - t);
  }
  return { bare: median(tb), detached: median(td), runner: median(tr) };
}
console.log(`runner (${RUNS} runs each, interleaved with a bare child_process.spawn of the same binary)`);
for (const [name, binary, args] of [
  ['terraform stand-in (node script) fmt', standin, ['fmt']],
  ['helm 4 version --short', kubeBinaries().helm, ['version', '--short']],
]) {
  const o = await overhead(binary, args, join(root, 'w'));
  console.log(
    `  ${name}: bare spawn median ${o.bare.toFixed(2)} ms; runner ${o.runner.toFixed(2)} ms; added ${(o.runner - o.bare).toFixed(2)} ms (${((100 * (o.runner - o.bare)) / o.bare).toFixed(1)}%); a bare spawn in its own process group (detached, as the runner) ${o.detached.toFixed(2)} ms`,
  );
}

// ---- plan answer size
const fixtures = join(import.meta.dirname, '../packages/infra-ops/test/fixtures/terraform-json');
const largest = readdirSync(fixtures)
  .filter((d) => {
    try {
      JSON.parse(readFileSync(join(fixtures, d, 'plan.json'), 'utf8'));
      return true;
    } catch {
      return false;
    }
  })
  .sort(
    (a, b) => statSync(join(fixtures, b, 'plan.json')).size - statSync(join(fixtures, a, 'plan.json')).size,
  )[0];
const gen = join(root, 'gen-500');
mkdirSync(gen);
writeFileSync(join(gen, 'plan.json'), JSON.stringify(generatePlan(500)));
const tf = server([terraform({ binary: standin, root, timeoutMs: 30_000 })]);
console.log('terraform_plan answer vs raw show -json');
for (const [name, plan] of [
  [largest, largest],
  ['generated 500 resources', gen],
]) {
  const dir = `p-${name.replace(/\W/g, '_')}`;
  mkdirSync(join(root, dir));
  writeFileSync(join(root, dir, 'standin.json'), JSON.stringify({ plan }));
  const r = await tf.callTool('terraform_plan', { dir, maxBytes: 1_048_576 });
  if (r.isError) throw new Error(r.content[0].text);
  const rawSize = statSync(join(plan.startsWith('/') ? plan : join(fixtures, plan), 'plan.json')).size;
  const d = await tf.callTool('terraform_plan', { dir });
  console.log(
    `  ${name}: raw ${kb(rawSize)}; answer ${kb(bytes(r))} (${((100 * bytes(r)) / rawSize).toFixed(1)}%)${d.isError ? '' : `; default budget ${kb(bytes(d))}`}`,
  );
}

// ---- tools/list, per toolset (plugins without toolsets: all their tools)
console.log('tools/list bytes (JSON of the tools/list result)');
const listBytes = (p, toolsets) => {
  const tools = createServer({
    plugins: [p],
    audit: [new MemoryAuditSink()],
    logger: quiet,
    env: {},
    toolsets,
  }).registry.toolList;
  return { n: tools.length, b: Buffer.byteLength(JSON.stringify({ tools })) };
};
for (const [name, make] of [
  ['terraform', () => terraform({ root })],
  ['helm', () => helm({ chartsRoot: root })],
  ['argocd', () => argocd({ url: 'http://127.0.0.1:9' })],
  ['aws', () => aws({ region: 'us-east-1' })],
]) {
  const sets = Object.keys(make().toolsets ?? {});
  const all = listBytes(make(), ['all']);
  const def = listBytes(make(), undefined);
  console.log(
    `  ${name}: all ${all.n} tools ${all.b} B${sets.length ? `; default ${def.n} tools ${def.b} B` : ''}`,
  );
  for (const set of sets) {
    const one = listBytes(make(), [`${name}/${set}`]);
    console.log(`    ${name}/${set}: ${one.n} tools ${one.b} B (${Math.round(one.b / one.n)} B/tool)`);
  }
}
process.exit(0);
