#!/usr/bin/env node
// The in-process cost of a write against a read (issue 6 "Measure"): core's createServer with a small
// in-memory key/value plugin (below), called through the SDK client over the in-memory transport
// (`connectInMemory`). Per call, median and p99 in µs of
//   - a read (kv_get),
//   - a write's dry run (kv_set without approval: plan, change hash, token),
//   - its approved execution (kv_set with the token: re-plan and compare, run),
//   - the same two for a write that holds its plan (kv_put: plan handle + verify, no second plan),
// with the memory audit sink and with the JSONL sink in a temp dir (the default: lock, chain, append).
// Iterations interleave every kind and both sinks, so machine noise hits them alike; ratios are write/read
// within the same sink.
//
//   pnpm build && node bench/write-overhead.mjs [--calls 2000] [--rounds 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { connectInMemory } from '../packages/core/dist/client.js';
import {
  createServer,
  definePlugin,
  defineTool,
  JsonlAuditSink,
  MemoryAuditSink,
  ToolError,
} from '../packages/core/dist/index.js';

const { values: opt } = parseArgs({
  options: { calls: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } },
});
const CALLS = Number(opt.calls);
const ROUNDS = Number(opt.rounds);

/** A trivial store: one read, one write re-planned on approval, one write executed from its held plan. */
const store = definePlugin({
  id: 'kv',
  title: 'Key/value',
  description: 'In-memory store (bench)',
  version: '0.0.0',
  config: z.object({}),
  setup: async () => ({ values: new Map([['a', '1']]), versions: new Map() }),
  tools: [
    defineTool({
      name: 'get',
      description: 'Read a key',
      input: z.object({ key: z.string().describe('Key') }),
      output: z.object({ key: z.string(), value: z.string().nullable() }),
      effect: 'read',
      run: async ({ key }, ctx) => ({ data: { key, value: ctx.client.values.get(key) ?? null } }),
    }),
    defineTool({
      name: 'set',
      description: 'Set a key (re-planned and compared on approval)',
      input: z.object({ key: z.string().describe('Key'), value: z.string().describe('Value') }),
      output: z.object({ key: z.string(), old: z.string().nullable(), value: z.string() }),
      preview: z.object({ key: z.string(), from: z.string().nullable(), to: z.string() }),
      effect: 'write',
      idempotent: true,
      plan: async ({ key, value }, ctx) => {
        const from = ctx.client.values.get(key) ?? null;
        return {
          change: { key, from, to: value },
          preview: { key, from, to: value },
          text: `${key}: ${from ?? '(unset)'} -> ${value}`,
        };
      },
      run: async ({ key, value }, ctx) => {
        const old = ctx.client.values.get(key) ?? null;
        ctx.client.values.set(key, value);
        return { data: { key, old, value } };
      },
    }),
    defineTool({
      name: 'put',
      description: 'Set a key (executes the held plan after verify)',
      input: z.object({ key: z.string().describe('Key'), value: z.string().describe('Value') }),
      output: z.object({ key: z.string(), version: z.number() }),
      preview: z.object({ key: z.string(), from: z.string().nullable(), to: z.string() }),
      effect: 'write',
      plan: async ({ key, value }, ctx) => {
        const from = ctx.client.values.get(key) ?? null;
        const version = ctx.client.versions.get(key) ?? 0;
        return {
          change: { key, from, to: value, version },
          preview: { key, from, to: value },
          summary: `set ${key}`,
          handle: { key, value, version },
        };
      },
      verify: async (_args, ctx, plan) => {
        const { key, version } = plan.handle;
        if ((ctx.client.versions.get(key) ?? 0) !== version)
          throw new ToolError('stale_plan', `${key} changed since the dry run`, 'preview again');
      },
      discard: () => {},
      run: async (_args, ctx, plan) => {
        const { key, value, version } = plan.handle;
        ctx.client.values.set(key, value);
        ctx.client.versions.set(key, version + 1);
        return { data: { key, version: version + 1 } };
      },
    }),
  ],
});

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const dir = mkdtempSync(join(tmpdir(), 'infra-mcp-bench-write-'));
const sinks = {
  memory: () => new MemoryAuditSink(),
  jsonl: () => new JsonlAuditSink(join(dir, 'audit.jsonl')),
};
const setups = {};
for (const [name, sink] of Object.entries(sinks)) {
  const server = createServer({
    plugins: [store()],
    pluginConfig: { kv: {} },
    audit: [sink()],
    logger: quiet,
    env: {},
  });
  setups[name] = { server, client: await connectInMemory(server) };
}

const KINDS = ['read', 'set dry run', 'set approved', 'put dry run', 'put approved'];
const call = async (client, name, args) => {
  const t0 = performance.now();
  const r = await client.callTool({ name, arguments: args });
  const t = performance.now() - t0;
  if (r.isError) throw new Error(`${name}: ${r.content[0].text}`);
  return { r, us: t * 1000 };
};
/** One read, one set (dry run, approved), one put (dry run, approved); times in µs by kind. */
const iteration = async (client, i, times) => {
  times.read.push((await call(client, 'kv_get', { key: 'a' })).us);
  for (const tool of ['set', 'put']) {
    const args = { key: `k${i % 16}`, value: `v${i}` };
    const dry = await call(client, `kv_${tool}`, args);
    times[`${tool} dry run`].push(dry.us);
    const approval = dry.r.structuredContent.approval;
    if (!approval) throw new Error(`kv_${tool}: no approval token in the dry run`);
    times[`${tool} approved`].push((await call(client, `kv_${tool}`, { ...args, approval })).us);
  }
};

const fresh = () => Object.fromEntries(KINDS.map((k) => [k, []]));
const warm = fresh();
for (let i = 0; i < 300; i++)
  for (const { client } of Object.values(setups)) await iteration(client, i, warm);

const quantile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const rounds = [];
for (let round = 0; round < ROUNDS; round++) {
  const times = { memory: fresh(), jsonl: fresh() };
  for (let i = 0; i < CALLS; i++)
    for (const [name, { client }] of Object.entries(setups)) await iteration(client, i, times[name]);
  rounds.push(times);
}

const out = [
  `write vs read through core + SDK in-memory transport: ${ROUNDS} round(s) of ${CALLS} interleaved iterations (node ${process.version})`,
  'per call, µs; write/read = median / median of the read with the same sink; a range spans the rounds',
  '',
  '| call | memory sink median | p99 | write/read | JSONL sink median | p99 | write/read |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
const range = (xs, digits = 0) => {
  const lo = Math.min(...xs).toFixed(digits);
  const hi = Math.max(...xs).toFixed(digits);
  return lo === hi ? lo : `${lo}–${hi}`;
};
for (const kind of KINDS) {
  const cells = [];
  for (const sink of ['memory', 'jsonl']) {
    const med = rounds.map((r) => quantile(r[sink][kind], 0.5));
    const p99 = rounds.map((r) => quantile(r[sink][kind], 0.99));
    const ratio = rounds.map((r) => quantile(r[sink][kind], 0.5) / quantile(r[sink].read, 0.5));
    cells.push(range(med), range(p99), kind === 'read' ? '1' : `${range(ratio, 2)}x`);
  }
  out.push(`| ${kind} | ${cells.join(' | ')} |`);
}
out.push('');
const jr = (kind) =>
  range(
    rounds.map((r) => quantile(r.jsonl[kind], 0.5) / quantile(r.memory[kind], 0.5)),
    2,
  );
out.push(`JSONL/memory per kind: ${KINDS.map((k) => `${k} ${jr(k)}x`).join(', ')}`);
// approvals used so far per server: a 300-iteration warm-up, then CALLS per round; two per iteration
out.push(
  `approved median by round (memory sink; approvals already used on that server at the round's start): ${rounds
    .map(
      (r, i) =>
        `round ${i + 1} (${2 * (300 + i * CALLS)}): set ${quantile(r.memory['set approved'], 0.5).toFixed(0)} µs, put ${quantile(r.memory['put approved'], 0.5).toFixed(0)} µs`,
    )
    .join('; ')}`,
);
console.log(out.join('\n'));

for (const { client, server } of Object.values(setups)) {
  await client.close();
  await server.close();
}
rmSync(dir, { recursive: true, force: true });
