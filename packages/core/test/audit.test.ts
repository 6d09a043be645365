import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { AuditLog, GENESIS, JsonlAuditSink, verifyAuditFile } from '../src/index.js';
import { kv } from './fixture-plugin.js';

async function auditedCalls(file: string, n: number) {
  const t = await connect([kv({ url: 'http://kv.local' })], { audit: [new JsonlAuditSink(file)] });
  for (let i = 0; i < n; i++) await t.call('kv_get', { key: `k${i}` });
  await t.close();
}

const entry = {
  start: 'a',
  end: 'b',
  tool: 't',
  args: {},
  dryRun: false,
  outcome: 'ok' as const,
  resultBytes: 1,
};

describe('audit chain', () => {
  it('chains records in a JSONL file, across restarts', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'audit-')), 'sub', 'audit.jsonl');
    await auditedCalls(file, 3);
    await auditedCalls(file, 2);
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(5);
    expect(lines[0].prev).toBe(GENESIS);
    for (let i = 1; i < 5; i++) expect(lines[i].prev).toBe(lines[i - 1].hash);
    expect(await verifyAuditFile(file)).toEqual({ ok: true, records: 5 });
  });

  it('verify detects a changed, a removed and a reordered record', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'audit-')), 'audit.jsonl');
    await auditedCalls(file, 4);
    const original = (await readFile(file, 'utf8')).trim().split('\n');

    const changed = [...original];
    changed[1] = changed[1]!.replace('"k1"', '"k9"');
    await writeFile(file, `${changed.join('\n')}\n`);
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      error: { line: 2, problem: expect.stringMatching(/changed/) },
    });

    await writeFile(file, `${[original[0], original[2], original[3]].join('\n')}\n`);
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      error: { line: 2, problem: expect.stringMatching(/removed/) },
    });

    await writeFile(file, `${[original[0], original[2], original[1], original[3]].join('\n')}\n`);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false, error: { line: 2 } });

    await writeFile(file, `${original.slice(1).join('\n')}\n`);
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      error: { line: 1, problem: expect.stringMatching(/first record/) },
    });
  });

  it('reports a failing sink instead of losing the record silently', async () => {
    const log = new AuditLog([{ name: 'broken', append: async () => Promise.reject(new Error('EACCES')) }]);
    await expect(log.record(entry)).rejects.toThrow(/audit sink failed: broken: EACCES/);
  });

  it('keeps one chain when several processes append to the same file', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'audit-')), 'audit.jsonl');
    // separate AuditLogs stand for separate processes: none knows the others' records
    const logs = [1, 2, 3].map(() => new AuditLog([new JsonlAuditSink(file)]));
    await Promise.all(logs.flatMap((log) => Array.from({ length: 10 }, () => log.record(entry))));
    expect(await verifyAuditFile(file)).toEqual({ ok: true, records: 30 });
  });

  it('continues the chain after a record larger than the tail it first reads', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'audit-')), 'audit.jsonl');
    await new AuditLog([new JsonlAuditSink(file)]).record({ ...entry, args: { big: 'x'.repeat(200_000) } });
    await new AuditLog([new JsonlAuditSink(file)]).record(entry);
    expect(await verifyAuditFile(file)).toEqual({ ok: true, records: 2 });
  });
});
