#!/usr/bin/env node
// Core's cost per tools/call, in process: a trivial read tool, audit to memory (baseline) versus
// to the JSONL file (the default: lock file, chain head, append), interleaved.
//
//   pnpm build && node bench/call-overhead.mjs [--calls 2000]
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kv } from '../apps/server/test/fixtures/kv-plugin.mjs';
import { createServer, JsonlAuditSink, MemoryAuditSink } from '../packages/core/dist/index.js';

const callsArg = process.argv.indexOf('--calls');
const CALLS = callsArg > 0 ? Number(process.argv[callsArg + 1]) : 2000;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const file = join(mkdtempSync(join(tmpdir(), 'infra-mcp-bench-')), 'audit.jsonl');
const servers = {
  memory: createServer({
    plugins: [kv({ url: 'http://kv.local' })],
    audit: [new MemoryAuditSink()],
    logger: quiet,
    env: {},
  }),
  jsonl: createServer({
    plugins: [kv({ url: 'http://kv.local' })],
    audit: [new JsonlAuditSink(file)],
    logger: quiet,
    env: {},
  }),
};
const times = { memory: [], jsonl: [] };
for (let i = 0; i < 200; i++)
  for (const s of Object.values(servers)) await s.callTool('kv_get', { key: 'a' });
for (let i = 0; i < CALLS; i++) {
  for (const [name, s] of Object.entries(servers)) {
    const t0 = performance.now();
    await s.callTool('kv_get', { key: 'a' });
    times[name].push(performance.now() - t0);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = median(times.memory);
const j = median(times.jsonl);
process.stdout.write(
  [
    `tools/call through core, median of ${CALLS} interleaved calls (node ${process.version})`,
    `  audit to memory (baseline)   ${(m * 1000).toFixed(0)} µs`,
    `  audit to JSONL file          ${(j * 1000).toFixed(0)} µs  (${(j / m).toFixed(2)}x; +${((j - m) * 1000).toFixed(0)} µs per call)`,
    '',
  ].join('\n'),
);
for (const s of Object.values(servers)) await s.close();
