import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@infra-mcp/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, GENESIS, hashRecord } from '../src/audit.js';
import {
  type AuditEntry,
  AuditLog,
  type AuditRecord,
  JsonlAuditSink,
  MemoryAuditSink,
  verifyAuditFile,
  verifyRecords,
} from '../src/index.js';
import { kv } from './fixture-plugin.js';

// key and head checkpoints go to a temp config dir, not the user's
beforeAll(async () => {
  process.env.XDG_CONFIG_HOME = await mkdtemp(join(tmpdir(), 'audit-config-'));
  delete process.env.INFRA_MCP_AUDIT_KEY;
});

const tempFile = async () => join(await mkdtemp(join(tmpdir(), 'audit-')), 'audit.jsonl');
const readLines = async (file: string) =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as AuditRecord);

async function auditedCalls(file: string, n: number) {
  const t = await connect([kv({ url: 'http://kv.local' })], { audit: [new JsonlAuditSink(file)] });
  for (let i = 0; i < n; i++) await t.call('kv_get', { key: `k${i}` });
  await t.close();
}

const entry: AuditEntry = {
  start: '2026-01-01T00:00:00.000Z',
  end: '2026-01-01T00:00:00.001Z',
  tool: 't',
  args: {},
  dryRun: false,
  outcome: 'ok',
  resultBytes: 1,
};

describe('audit chain', () => {
  it('each writer has its own chain (id, seq from 1) in one file, across restarts', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'audit-')), 'sub', 'audit.jsonl');
    await auditedCalls(file, 3);
    await auditedCalls(file, 2);
    const lines = await readLines(file);
    expect(lines).toHaveLength(5);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 1, 2]);
    expect(lines[0]!.chain).not.toBe(lines[3]!.chain);
    expect(lines[0]!.prev).toBe(GENESIS);
    expect(lines[3]!.prev).toBe(GENESIS);
    expect(lines[4]!.prev).toBe(lines[3]!.hash);
    const result = await verifyAuditFile(file);
    expect(result).toMatchObject({ ok: true, records: 5 });
    expect(result.warnings).toBeUndefined();
    expect(result.chains).toEqual([
      { chain: lines[0]!.chain, records: 3, firstSeq: 1, lastSeq: 3 },
      { chain: lines[3]!.chain, records: 2, firstSeq: 1, lastSeq: 2 },
    ]);
  });

  it('verify detects a changed, a removed, a reordered record and removed first records', async () => {
    const file = await tempFile();
    await auditedCalls(file, 4);
    const original = (await readFile(file, 'utf8')).trim().split('\n');
    const check = async (lines: string[], error: object) => {
      await writeFile(file, `${lines.join('\n')}\n`);
      expect(await verifyAuditFile(file, { checkpoint: false })).toMatchObject({ ok: false, error });
    };
    const changed = [...original];
    changed[1] = changed[1]!.replace('"k1"', '"k9"');
    await check(changed, { line: 2, problem: expect.stringMatching(/changed/) });
    await check([original[0]!, original[2]!, original[3]!], {
      line: 2,
      problem: expect.stringMatching(/removed/),
    });
    await check([original[0]!, original[2]!, original[1]!, original[3]!], { line: 2 });
    await check(original.slice(1), { line: 1, problem: expect.stringMatching(/starts at seq 2/) });
  });

  it('detects removed last records and a rewrite with recomputed plain hashes (keyed chain, checkpoint apart)', async () => {
    const file = await tempFile();
    await auditedCalls(file, 4);
    const original = (await readFile(file, 'utf8')).trim().split('\n');
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 4 });

    // the last record deleted: the chain alone is fine, the head checkpoint is not
    await writeFile(file, `${original.slice(0, 3).join('\n')}\n`);
    expect(await verifyAuditFile(file, { checkpoint: false })).toMatchObject({ ok: true, records: 3 });
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: false,
      error: {
        problem: expect.stringMatching(
          /newest records were removed.*seq 4, the log has that chain up to seq 3/,
        ),
      },
    });

    // rewritten with a changed argument and every hash recomputed with the exported hash function
    let prev = GENESIS;
    const forged = original.map((line) => {
      const { hash: _h, ...rest } = JSON.parse(line) as AuditRecord;
      const r = { ...rest, args: { key: 'forged' }, prev };
      prev = hashRecord(r);
      return JSON.stringify({ ...r, hash: prev });
    });
    await writeFile(file, `${forged.join('\n')}\n`);
    expect(await verifyAuditFile(file, { checkpoint: false })).toMatchObject({
      ok: false,
      error: { line: 1, problem: expect.stringMatching(/does not match its hash/) },
    });

    // the right file checked with another key
    await writeFile(file, `${original.join('\n')}\n`);
    expect(await verifyAuditFile(file, { key: 'another-key-0123456789' })).toMatchObject({ ok: false });
    expect(await verifyAuditFile(file)).toMatchObject({ ok: true, records: 4 });
  });

  it('verify of a missing file is an error, not "ok"', async () => {
    expect(await verifyAuditFile(join(tmpdir(), 'no-such-audit.jsonl'))).toMatchObject({
      ok: false,
      records: 0,
      error: { problem: 'audit file not found' },
    });
  });

  it('the key lives apart from the log, created 0600, never inside the log', async () => {
    const file = await tempFile();
    await auditedCalls(file, 1);
    const keyFile = join(process.env.XDG_CONFIG_HOME!, 'infra-mcp', 'audit.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const key = (await readFile(keyFile, 'utf8')).trim();
    expect(await readFile(file, 'utf8')).not.toContain(key);
  });

  it('verify reports an intent with no outcome as a warning, not a break', () => {
    const sink = new MemoryAuditSink();
    const log = new AuditLog([sink]);
    return (async () => {
      const intent = await log.record({
        ...entry,
        tool: 'kv_set',
        effect: 'write',
        phase: 'intent',
        changeHash: 'c1',
        summary: 'set a to 2',
      });
      await log.record({
        ...entry,
        tool: 'kv_set',
        effect: 'write',
        phase: 'outcome',
        intent: intent.id,
        changeHash: 'c1',
      });
      const crashed = await log.record({
        ...entry,
        tool: 'kv_del',
        effect: 'write',
        phase: 'intent',
        summary: 'delete a',
      });
      const result = verifyRecords(sink.records, { key: sink.hmacKey() });
      expect(result).toMatchObject({ ok: true, records: 3 });
      expect(result.warnings).toEqual([expect.stringMatching(/line 3.*kv_del.*intent with no outcome/)]);
      expect(crashed.summary).toBe('delete a');
    })();
  });
});

describe('audit records are bounded', () => {
  it('a 1 MB unknown tool name is refused before lookup and leaves a small record', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const huge = 'a'.repeat(1 << 20);
    const err = await t.call(huge, {}).catch((e: Error) => e);
    expect((err as Error).message.length).toBeLessThan(300);
    expect((err as Error).message).toMatch(/Unknown tool: a+…sha256:[0-9a-f]{16}/);
    await t.call('kv_get\n\u0000bad', {}).catch(() => undefined);
    const [rec, rec2] = t.audit.records;
    expect(rec).toMatchObject({ outcome: 'denied', errorCode: 'unknown_tool' });
    expect(rec!.tool.length).toBeLessThanOrEqual(64);
    expect(rec2!.tool).toBe('kv_get??bad');
    expect(JSON.stringify(rec).length).toBeLessThan(1024);
    await t.close();
  });

  it('every field is bounded, whoever builds the entry', async () => {
    const sink = new MemoryAuditSink();
    const big = 'x'.repeat(1 << 20);
    const r = await new AuditLog([sink]).record({
      ...entry,
      start: big,
      end: big,
      tool: big,
      caller: big,
      instance: big,
      errorCode: big,
      changeHash: big,
      summary: big,
      intent: big,
      args: { big },
      details: { big },
    });
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(5000);
    expect(r.args).toMatchObject({ bytes: (1 << 20) + 10 });
    expect(verifyRecords(sink.records, { key: sink.hmacKey() })).toMatchObject({ ok: true });
  });
});

describe('audit that cannot silently stop', () => {
  it('a read whose record cannot be written is served, counted on /metrics and logged rate-limited', async () => {
    let broken = true;
    const stored: AuditRecord[] = [];
    const sink = {
      name: 'flaky',
      hmacKey: () => Buffer.alloc(32, 1),
      append: async (r: AuditRecord) => {
        if (broken) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        stored.push(r);
      },
    };
    const logged: string[] = [];
    const t = await connect([kv({ url: 'http://kv.local' })], {
      audit: [sink],
      logger: { debug() {}, info() {}, warn() {}, error: (m: string) => logged.push(m) } as never,
    });
    for (let i = 0; i < 5; i++) expect((await t.call('kv_get', { key: 'a' })).isError).toBeFalsy();
    expect(t.server.audit.status()).toMatchObject({ lost: 5, seq: 0 });
    expect(t.server.metrics.render()).toMatch(/^infra_mcp_audit_lost_records_total 5$/m);
    expect(logged.filter((m) => /audit sink failed/.test(m))).toHaveLength(1);
    broken = false;
    await t.call('kv_get', { key: 'a' });
    // the chain says what was lost
    expect(stored.map((r) => [r.seq, r.tool, r.outcome])).toEqual([
      [1, '(audit)', 'lost'],
      [2, 'kv_get', 'ok'],
    ]);
    expect(stored[0]!.details).toMatchObject({
      records: 5,
      sinks: ['flaky'],
      lastError: expect.stringMatching(/ENOSPC/),
    });
    expect(verifyRecords(stored, { key: Buffer.alloc(32, 1) }).warnings).toEqual([
      expect.stringMatching(/lost records.*"records":5/),
    ]);
    await t.close();
  });

  it('a torn last line (crash mid-append) is kept aside, cut off and the chain goes on with a record saying so', async () => {
    const file = await tempFile();
    await auditedCalls(file, 3);
    const full = await readFile(file, 'utf8');
    const cut = full.length - 40; // inside the last record
    await truncate(file, Buffer.byteLength(full.slice(0, cut)));
    expect((await verifyAuditFile(file, { checkpoint: false })).warnings).toEqual([
      expect.stringMatching(/incomplete last line/),
    ]);
    await auditedCalls(file, 1);
    const torn = readdirSync(join(file, '..')).filter((n) => n.startsWith('audit.jsonl.torn-'));
    expect(torn).toHaveLength(1);
    expect(await readFile(join(file, '..', torn[0]!), 'utf8')).toBe(
      full.slice(full.lastIndexOf('\n', cut - 1) + 1, cut),
    );
    const lines = await readLines(file);
    expect(lines.map((l) => [l.seq, l.tool, l.outcome])).toEqual([
      [1, 'kv_get', 'ok'],
      [2, 'kv_get', 'ok'],
      [1, '(audit)', 'recovered'],
      [2, 'kv_get', 'ok'],
    ]);
    expect(lines[2]!.details).toMatchObject({ tornBytes: expect.any(Number), keptIn: torn[0] });
    const result = await verifyAuditFile(file);
    // the cut record (chain 1, seq 3) is gone: the checkpoint knew it
    expect(result).toMatchObject({
      ok: false,
      error: { problem: expect.stringMatching(/chain .* ends at seq 2 but the checkpoint says 3/) },
    });
    expect(await verifyAuditFile(file, { checkpoint: false })).toMatchObject({
      ok: true,
      records: 4,
      warnings: [expect.stringMatching(/torn last line was recovered/)],
    });
  });

  const canMount = (() => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
    const probe = join(tmpdir(), `audit-mount-probe-${process.pid}`);
    try {
      mkdirSync(probe, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', probe], { stdio: 'ignore' });
      execFileSync('umount', [probe], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    } finally {
      rmSync(probe, { recursive: true, force: true });
    }
  })();

  it.runIf(canMount)(
    'a full disk (real tmpfs): reads go on, losses counted, and once space returns the log recovers and verifies',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'audit-full-'));
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
      try {
        const file = join(dir, 'audit.jsonl');
        // leave ~12 KiB free
        writeFileSync(join(dir, 'filler'), Buffer.alloc(52 * 1024));
        const t = await connect([kv({ url: 'http://kv.local' })], { audit: [new JsonlAuditSink(file)] });
        let served = 0;
        for (let i = 0; i < 200; i++) if (!(await t.call('kv_get', { key: `k${i}` })).isError) served++;
        expect(served).toBe(200);
        const { lost, seq } = t.server.audit.status();
        expect(lost).toBeGreaterThan(0);
        expect(seq + lost).toBe(200);
        expect(t.server.metrics.render()).toContain(`infra_mcp_audit_lost_records_total ${lost}`);
        rmSync(join(dir, 'filler'));
        await t.call('kv_get', { key: 'after' });
        await t.close();
        // short writes were cut back: no torn line, nothing to keep aside
        expect(readdirSync(dir)).toEqual(['audit.jsonl']);
        const lines = await readLines(file);
        const notes = lines.filter((l) => l.tool === '(audit)').map((l) => l.outcome);
        expect(notes).toContain('lost');
        const result = await verifyAuditFile(file);
        expect(result).toMatchObject({ ok: true, records: seq + notes.length + 1 });
        expect(result.warnings?.join('\n')).toMatch(/lost records/);
      } finally {
        execFileSync('umount', [dir]);
      }
    },
  );
});

describe('rotation', () => {
  it('rotates by size and verify follows the files in order; a removed middle file is detected', async () => {
    const file = await tempFile();
    const logs = [1, 2].map(() => new AuditLog([new JsonlAuditSink({ path: file, rotateBytes: 2000 })]));
    for (let i = 0; i < 15; i++) for (const log of logs) await log.record({ ...entry, args: { i } });
    const result = await verifyAuditFile(file);
    expect(result.ok).toBe(true);
    expect(result.files!.length).toBeGreaterThan(3);
    expect(result.chains!.map((c) => c.lastSeq).sort()).toHaveLength(2);
    // every record is there, plus one rotated note per new file
    expect(result.records).toBe(30 + result.files!.length - 1);
    const second = await readLines(result.files![1]!);
    expect(second[0]).toMatchObject({ tool: '(audit)', outcome: 'rotated' });
    rmSync(result.files![1]!);
    expect(await verifyAuditFile(file)).toMatchObject({ ok: false });
    expect(existsSync(file)).toBe(true);
  });
});

describe('audit lock', () => {
  it('a lock whose holder is dead is taken at once, by exactly one of several takers', async () => {
    const lock = `${await tempFile()}.lock`;
    // pid above any pid_max: no such process
    writeFileSync(
      lock,
      JSON.stringify({ pid: 4_194_305, host: hostname(), time: Date.now(), nonce: 'dead' }),
    );
    let holders = 0;
    let maxHolders = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        const release = await acquireLock(lock);
        maxHolders = Math.max(maxHolders, ++holders);
        await new Promise((r) => setTimeout(r, 30));
        holders--;
        release();
      }),
    );
    expect(maxHolders).toBe(1);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(existsSync(lock)).toBe(false);
  });

  it('a lock held by a live process is waited for, then reported with its pid', async () => {
    const lock = `${await tempFile()}.lock`;
    writeFileSync(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname(), time: Date.now(), nonce: 'live' }),
    );
    await expect(acquireLock(lock, { waitMs: 200 })).rejects.toThrow(
      `locked by another process (${lock}: pid ${process.pid}`,
    );
  });
});

describe('audit logs written before keyed chains', () => {
  it('a version 1 log goes on with keyed records and still verifies, with a warning', async () => {
    const file = await tempFile();
    let prev = GENESIS;
    const v1 = [1, 2].map((i) => {
      const r = { id: `old${i}`, ...entry, prev };
      prev = hashRecord(r);
      return JSON.stringify({ ...r, hash: prev });
    });
    await writeFile(file, `${v1.join('\n')}\n`);
    await auditedCalls(file, 2);
    const result = await verifyAuditFile(file);
    expect(result).toMatchObject({ ok: true, records: 4 });
    expect(result.warnings).toEqual([expect.stringMatching(/starts with unkeyed \(version 1\) records/)]);
    // but an unkeyed record after keyed ones is an insertion
    await writeFile(file, `${(await readFile(file, 'utf8')).trimEnd()}\n${v1[0]}\n`);
    expect(await verifyAuditFile(file, { checkpoint: false })).toMatchObject({
      ok: false,
      error: { line: 5, problem: expect.stringMatching(/unkeyed/) },
    });
  });
});
