#!/usr/bin/env node
// What tools/list costs a client at the start of every session, per tool, with and without output
// schemas: Prometheus with every toolset (what was listed before toolsets existed) against the
// default toolsets, all in one run. Schemas come from the built registry (the same objects served).
//
//   pnpm build && node bench/tools-list.mjs
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = (pkg) => fileURLToPath(new URL(`../packages/${pkg}/dist/index.js`, import.meta.url));
if (!existsSync(dist('core')) || !existsSync(dist('prometheus'))) throw new Error('run pnpm build first');
const { createServer } = await import(dist('core'));
const { prometheus } = await import(dist('prometheus'));

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const bytes = (v) => Buffer.byteLength(JSON.stringify(v));

function listing(toolsets) {
  const server = createServer({
    plugins: [prometheus({ url: 'http://127.0.0.1:9' })],
    pluginConfig: toolsets ? { prometheus: { toolsets } } : {},
    env: {},
    audit: [],
    logger: quiet,
  });
  const tools = server.registry.toolList;
  const without = tools.map(({ outputSchema: _o, ...rest }) => rest);
  return { tools, full: bytes({ tools }), bare: bytes({ tools: without }) };
}

const all = listing(['all']);
const def = listing(undefined);
const row = (name, l) => {
  const n = l.tools.length;
  return [
    name.padEnd(28),
    String(n).padStart(5),
    String(l.full).padStart(9),
    String(Math.round(l.full / n)).padStart(9),
    String(l.bare).padStart(12),
    String(Math.round(l.bare / n)).padStart(12),
    `${((l.full / all.full) * 100).toFixed(0)}%`.padStart(9),
  ].join('  ');
};
console.log('prometheus tools/list (one instance), bytes of the JSON result');
console.log(
  ['toolsets'.padEnd(28), 'tools', '    bytes', ' per tool', 'no outputs', 'per tool', 'vs all'].join('  '),
);
console.log(row('all (as listed before)', all));
console.log(row('default (query, discover)', def));
console.log(
  `output schemas are ${(((all.full - all.bare) / all.full) * 100).toFixed(0)}% of the full list; ` +
    `the default list is ${(def.full / all.full).toFixed(2)}x the full one`,
);
console.log('\nper tool (all toolsets): bytes with output schema / without');
for (const t of all.tools) {
  const { outputSchema: _o, ...bare } = t;
  console.log(`  ${t.name.padEnd(26)} ${String(bytes(t)).padStart(6)} ${String(bytes(bare)).padStart(6)}`);
}
