import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, type AuditRecord, verifyAuditFile } from '../src/index.js';

// Real processes on the built package: `pnpm build` (or `pnpm test`) first.
const child = fileURLToPath(new URL('./fixtures/audit-child.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  if (!existsSync(dist)) throw new Error(`${dist} missing: run pnpm build first`);
  env = { ...process.env, XDG_CONFIG_HOME: await mkdtemp(join(tmpdir(), 'audit-config-')) };
  delete env.INFRA_MCP_AUDIT_KEY;
});

function run(args: string[], nodeArgs: string[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...nodeArgs, child, ...args],
      { env, maxBuffer: 1 << 20 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    );
  });
}

async function waitFor(path: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`${path} did not appear`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('audit with several processes', () => {
  it('writers in separate processes, after one was killed -9 inside the lock: every record present, each chain intact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audit-procs-'));
    const file = join(dir, 'audit.jsonl');
    await run(['writer', file, '1']); // creates the key file and the log

    // a holder killed inside the lock leaves a lock file with its (now dead) pid
    const marker = join(dir, 'locked');
    const holder: ChildProcess = spawn(process.execPath, [child, 'hold-lock', file, marker], {
      env,
      stdio: 'ignore',
    });
    await waitFor(marker);
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    const lock = JSON.parse(await readFile(`${file}.lock`, 'utf8'));
    expect(lock).toMatchObject({ pid: holder.pid, host: expect.any(String), time: expect.any(Number) });

    const started = Date.now();
    const writers = 4;
    const each = 40;
    const outs = await Promise.all(
      Array.from({ length: writers }, () => run(['writer', file, String(each)])),
    );
    const elapsed = Date.now() - started;
    // the dead holder is seen at once (pid), not after the 30 s age limit or a 5 s wait per call
    expect(elapsed).toBeLessThan(15_000);
    for (const out of outs) expect(JSON.parse(out)).toMatchObject({ seq: each, lost: 0 });

    const result = await verifyAuditFile(file, { env });
    expect(result).toMatchObject({ ok: true, records: 1 + writers * each });
    expect(result.warnings).toBeUndefined(); // the checkpoint saw every append (no two holders at once)
    expect(result.chains).toHaveLength(1 + writers);
    for (const c of result.chains!.slice(1))
      expect(c).toMatchObject({ records: each, firstSeq: 1, lastSeq: each });
    const records = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditRecord);
    const pids = new Set(records.map((r) => (r.args as { pid: number }).pid));
    expect(pids.size).toBe(1 + writers);
    expect(existsSync(`${file}.lock`)).toBe(false);
    await rm(dir, { recursive: true });
  });

  it('verify streams: a ~80 MB log verified by a process whose heap is capped at 32 MB (whole, the file would need 80)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'audit-big-'));
    const file = join(dir, 'audit.jsonl');
    const key = 'big-file-test-key-0123456789';
    const fd = openSync(file, 'w');
    let bytes = 0;
    const sink = {
      name: 'gen',
      append: async (r: AuditRecord) => {
        const line = `${JSON.stringify(r)}\n`;
        writeSync(fd, line);
        bytes += line.length;
      },
    };
    const log = new AuditLog([sink], { key });
    const pad = 'p'.repeat(6000);
    let n = 0;
    while (bytes < 80 * 1024 * 1024) {
      await log.record({
        start: 's',
        end: 'e',
        tool: 'kv_get',
        args: { pad, n },
        dryRun: false,
        outcome: 'ok',
        resultBytes: 1,
      });
      n++;
    }
    closeSync(fd);
    const size = (await stat(file)).size;
    env.INFRA_MCP_AUDIT_KEY = key;
    try {
      const out = JSON.parse(await run(['verify', file], ['--max-old-space-size=32']));
      expect(out).toMatchObject({ ok: true, records: n });
      // the cap is the proof (reading the file whole crashes this process); the peak is reported
      expect(out.peakHeap).toBeLessThan(size);
      console.log(
        `verify: ${(size / 2 ** 20).toFixed(0)} MiB, ${n} records, peak heap ${(out.peakHeap / 2 ** 20).toFixed(1)} MiB, ${out.ms} ms`,
      );
    } finally {
      delete env.INFRA_MCP_AUDIT_KEY;
      await rm(dir, { recursive: true });
    }
  }, 120_000);
});
