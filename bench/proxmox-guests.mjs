#!/usr/bin/env node
// @infra-mcp/proxmox against the fake PVE API (packages/proxmox/test/fake-pve.ts) with 3 nodes and
// 500 guests (a third containers):
//  1. raw: bytes of GET /api2/json/cluster/resources?type=vm, per guest;
//  2. proxmox_guests (all guests, paged at the default budget and at 64 KiB): bytes of each page
//     (structured JSON + text, core's one measure) against its budget, bytes per guest (text, and
//     structured + text), time, and that every guest is seen once, VMs and containers alike;
//  3. tools/list bytes of the Proxmox toolsets (all tools listed).
//
//   pnpm build && node bench/proxmox-guests.mjs
import { existsSync } from 'node:fs';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { bigCluster, CERT_FILE, FakePve, TOKEN_ID, TOKEN_SECRET } from '../packages/proxmox/test/fake-pve.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => {
  const f = `${root}packages/${p}/dist/index.js`;
  if (!existsSync(f)) throw new Error(`${f} missing: run pnpm build first`);
  return f;
};
const { proxmox } = await import(dist('proxmox'));
const { connect } = await import(dist('testing'));

const GUESTS = 500;
const fake = await new FakePve(bigCluster(3, GUESTS)).start();
const bytes = (s) => Buffer.byteLength(s);

const raw = await new Promise((resolve, reject) => {
  const req = https.get(
    `${fake.url}/api2/json/cluster/resources?type=vm`,
    { ca: [fs(CERT_FILE)], headers: { Authorization: `PVEAPIToken=${TOKEN_ID}=${TOKEN_SECRET}` } },
    (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    },
  );
  req.on('error', reject);
});
function fs(f) {
  return process.getBuiltinModule('node:fs').readFileSync(f);
}

const t = await connect(
  [proxmox({ url: fake.url, tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, tls: { caFile: CERT_FILE } })],
  {
    pluginConfig: { proxmox: { toolsets: ['all'] } },
  },
);
const report = {
  guests: GUESTS,
  rawBytes: raw.length,
  rawPerGuest: +(raw.length / GUESTS).toFixed(1),
  runs: [],
};
for (const maxBytes of [undefined, 65536]) {
  const seen = [];
  let cursor;
  let text = 0;
  let total = 0;
  let pages = 0;
  let worst = 0;
  const t0 = performance.now();
  do {
    const r = await t.call('proxmox_guests', {
      ...(maxBytes ? { maxBytes } : {}),
      ...(cursor ? { cursor } : {}),
    });
    if (r.isError) throw new Error(r.text);
    const b = bytes(JSON.stringify(r.structured)) + bytes(r.text);
    worst = Math.max(worst, b);
    text += bytes(r.text);
    total += b;
    pages++;
    seen.push(...r.structured.rows.map((x) => x[0]));
    cursor = r.structured.nextCursor;
  } while (cursor);
  const ms = performance.now() - t0;
  const budget = maxBytes ?? 16384;
  const types = new Set(
    (await t.call('proxmox_guests', { type: 'lxc', maxBytes: 65536 })).structured.rows.map((r) => r[3]),
  );
  report.runs.push({
    maxBytes: budget,
    pages,
    largestPageBytes: worst,
    everyPageWithinBudget: worst <= budget,
    everyGuestOnce: seen.length === GUESTS && new Set(seen).size === GUESTS,
    containersListed: types.has('c'),
    textBytesPerGuest: +(text / GUESTS).toFixed(1),
    answerBytesPerGuest: +(total / GUESTS).toFixed(1),
    textPctOfRaw: +((100 * text) / raw.length).toFixed(1),
    ms: Math.round(ms),
  });
}
const listed = async (c) => {
  const tools = (await c.listTools()).filter((x) => x.name.startsWith('proxmox_'));
  const b = bytes(JSON.stringify(tools));
  const noOut = bytes(JSON.stringify(tools.map(({ outputSchema, ...rest }) => rest)));
  return {
    tools: tools.length,
    bytes: b,
    perTool: Math.round(b / tools.length),
    perToolWithoutOutputSchemas: Math.round(noOut / tools.length),
  };
};
report.toolsList = { all: await listed(t) };
await t.close();
const d = await connect([
  proxmox({ url: fake.url, tokenId: TOKEN_ID, tokenSecret: TOKEN_SECRET, tls: { caFile: CERT_FILE } }),
]);
report.toolsList.default = await listed(d);
await d.close();
await fake.close();
console.log(JSON.stringify(report, null, 2));
const ok = report.runs.every((r) => r.everyPageWithinBudget && r.everyGuestOnce && r.textBytesPerGuest <= 50);
console.log(ok ? 'goal met: every page within budget, <= 50 B of text per guest' : 'GOAL MISSED');
process.exitCode = ok ? 0 : 1;
