/**
 * The README's first run: scripts/first-run.sh starts a real Prometheus + node exporter on loopback,
 * points the built server at it and answers a first query; a second run reuses them; `stop` stops
 * them. Where no Prometheus can be had, it says what to configure.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, requireBuilt, root } from '../helpers/app-process.js';

const script = join(root, 'scripts/first-run.sh');
const state = mkdtempSync(join(tmpdir(), 'infra-mcp-first-run-'));

function firstRun(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      '/bin/bash',
      [script, ...args],
      {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: state,
          INFRA_MCP_FIRST_RUN_DIR: state,
          // nothing listens here: the script must start its own pair, not reuse a system Prometheus
          INFRA_MCP_FIRST_RUN_PROBE: 'http://127.0.0.1:9',
          ...env,
        },
        timeout: 90_000,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as any).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

afterAll(async () => {
  await firstRun(['stop']);
  rmSync(state, { recursive: true, force: true });
});

describe('scripts/first-run.sh', () => {
  it('starts Prometheus + node exporter, lists the tools, answers a first query; reuses them; stops them', async () => {
    requireBuilt(cliPath);
    const first = await firstRun([]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/started Prometheus at http:\/\/127\.0\.0\.1:\d+/);
    expect(first.stdout).toContain('prometheus_query ');
    expect(first.stdout).toMatch(/up · 2 samples/);
    expect(first.stdout).toMatch(/\{instance="127\.0\.0\.1:\d+", job="node"\}\s+1\n/);
    expect(first.stdout).toMatch(/\{instance="127\.0\.0\.1:\d+", job="prometheus"\}\s+1\n/);
    expect(first.stdout).toContain(`"args": ["${cliPath}", "--read-only"]`);
    const url = readFileSync(join(state, 'url'), 'utf8').trim();

    const again = await firstRun([]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`reusing the Prometheus started before at ${url}`);

    const pid = Number(readFileSync(join(state, 'prometheus.pid'), 'utf8'));
    expect((await firstRun(['stop'])).code).toBe(0);
    expect(existsSync(join(state, 'prometheus.pid'))).toBe(false);
    // gone, or a zombie waiting for a reaper that is not ours
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    expect(stat).not.toMatch(/^\d+ \([^)]*\) [^Z]/);
  }, 120_000);

  it('says what to configure when the Prometheus it is given does not answer', async () => {
    const r = await firstRun([], { PROMETHEUS_URL: 'http://127.0.0.1:9' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('the first query failed');
    expect(r.stderr).toContain('PROMETHEUS_URL=http://prometheus.example:9090 scripts/dev first-run');
    expect(r.stderr).toContain('apt-get install prometheus prometheus-node-exporter');
  });
});
