/**
 * Test-only launcher for a real Prometheus (+ node exporter) on free loopback ports.
 *
 * Used by the test files (one shared server per file, started in beforeAll) and by
 * bench/prometheus.mjs. Written with erasable TypeScript only, so Node can import it directly.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface PrometheusServer {
  /** Base URL of Prometheus, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Base URL of the node exporter. */
  exporterUrl: string;
  /** A loopback port nothing listens on (the `down` scrape job points at it). */
  deadPort: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Scrape and rule evaluation interval (default 1s). */
  interval?: string;
  /** Wait until the node exporter was scraped at least this many times (default 3). */
  minScrapes?: number;
  /**
   * OpenMetrics text to backfill (promtool tsdb create-blocks-from openmetrics) before Prometheus
   * starts; a function gets the running node exporter (to continue its real series back in time).
   */
  backfill?: string | ((exporter: { url: string; instance: string }) => Promise<string> | string);
}

const INSTALL_HINT =
  'install them with: apt-get install prometheus prometheus-node-exporter (CI does this in .ci/run)';

function findBinary(name: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} not found on PATH or in /usr/bin; ${INSTALL_HINT}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** The rules file: one recording rule group and alerts in three deterministic states. */
export const RULES_YAML = `groups:
  - name: recording
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
  - name: alerts
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        for: 0s
        labels:
          severity: warning
          team: infra
        annotations:
          summary: Always firing (test alert)
          description: This alert fires on every evaluation.
      - alert: TargetDown
        expr: up == 0
        for: 0s
        labels:
          severity: critical
        annotations:
          summary: "Target {{ $labels.instance }} of job {{ $labels.job }} is down"
      - alert: PendingForAnHour
        expr: vector(1)
        for: 1h
        labels:
          severity: info
      - alert: NeverFires
        expr: vector(0) > 1
        labels:
          severity: info
`;

function configYaml(interval: string, promPort: number, exporterPort: number, deadPort: number): string {
  return `global:
  scrape_interval: ${interval}
  evaluation_interval: ${interval}
rule_files:
  - rules.yml
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:${promPort}']
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:${exporterPort}']
        labels:
          env: test
  - job_name: down
    scrape_timeout: 500ms
    static_configs:
      - targets: ['127.0.0.1:${deadPort}']
`;
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || err.message}`));
      else resolve();
    });
  });
}

function startProcess(
  file: string,
  args: string[],
  name: string,
): { child: ChildProcess; output: () => string } {
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('error', (err) => {
    out += `\n${name}: ${err.message}`;
  });
  return { child, output: () => out };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  diag: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `timed out waiting for ${what}${last ? ` (last error: ${last})` : ''}\n--- process output ---\n${diag()}`,
  );
}

/** Start node exporter and Prometheus, wait until scrapes and rule evaluations have happened. */
export async function startPrometheus(options: StartOptions = {}): Promise<PrometheusServer> {
  const interval = options.interval ?? '1s';
  const minScrapes = options.minScrapes ?? 3;
  const prometheusBin = findBinary('prometheus');
  const exporterBin = findBinary('prometheus-node-exporter');
  const [promPort, exporterPort, deadPort] = [await freePort(), await freePort(), await freePort()];
  const dataDir = await mkdtemp(join(tmpdir(), 'infra-mcp-prom-'));
  const tsdb = join(dataDir, 'data');
  await writeFile(join(dataDir, 'prometheus.yml'), configYaml(interval, promPort, exporterPort, deadPort));
  await writeFile(join(dataDir, 'rules.yml'), RULES_YAML);
  const exporter = startProcess(
    exporterBin,
    [
      `--web.listen-address=127.0.0.1:${exporterPort}`,
      '--collector.disable-defaults',
      '--collector.cpu',
      '--collector.meminfo',
      '--collector.loadavg',
      '--collector.filesystem',
      '--collector.netdev',
      '--collector.time',
      '--collector.uname',
    ],
    'node exporter',
  );
  try {
    await waitFor(
      'node exporter /metrics',
      15_000,
      async () => {
        if (exporter.child.exitCode !== null)
          throw new Error(`node exporter exited with code ${exporter.child.exitCode}`);
        const res = await fetch(`http://127.0.0.1:${exporterPort}/metrics`, {
          signal: AbortSignal.timeout(2000),
        });
        return res.ok ? true : undefined;
      },
      exporter.output,
    );
    if (options.backfill) {
      const text =
        typeof options.backfill === 'function'
          ? await options.backfill({
              url: `http://127.0.0.1:${exporterPort}`,
              instance: `127.0.0.1:${exporterPort}`,
            })
          : options.backfill;
      const file = join(dataDir, 'backfill.om');
      await writeFile(file, text);
      await run(findBinary('promtool'), ['tsdb', 'create-blocks-from', 'openmetrics', '-q', file, tsdb]);
    }
  } catch (err) {
    await stopProcess(exporter.child);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const prom = startProcess(
    prometheusBin,
    [
      `--config.file=${join(dataDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${tsdb}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--storage.tsdb.retention.time=2d',
      '--log.level=warn',
    ],
    'prometheus',
  );
  const url = `http://127.0.0.1:${promPort}`;
  const exporterUrl = `http://127.0.0.1:${exporterPort}`;
  const stop = async () => {
    await Promise.all([stopProcess(prom.child), stopProcess(exporter.child)]);
    await rm(dataDir, { recursive: true, force: true });
  };
  const diag = () => `prometheus:\n${prom.output()}\nnode exporter:\n${exporter.output()}`;
  try {
    const exited = (p: ChildProcess, name: string) => () => {
      if (p.exitCode !== null) throw new Error(`${name} exited with code ${p.exitCode}`);
    };
    await waitFor(
      'prometheus /-/ready',
      30_000,
      async () => {
        exited(prom.child, 'prometheus')();
        exited(exporter.child, 'node exporter')();
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
        return res.ok ? true : undefined;
      },
      diag,
    );
    const q = (query: string) => getJson(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
    await waitFor(
      `${minScrapes} scrapes of the node exporter`,
      60_000,
      async () => {
        const r = await q('count_over_time(up{job="node"}[1h])');
        const n = Number(r.data.result[0]?.value[1] ?? 0);
        return n >= minScrapes ? true : undefined;
      },
      diag,
    );
    await waitFor(
      'the recording rule and the AlwaysFiring alert',
      30_000,
      async () => {
        const rec = await q('job:up:sum{job="node"}');
        const alerts = await getJson(`${url}/api/v1/alerts`);
        const firing = alerts.data.alerts.some(
          (a: any) => a.labels.alertname === 'AlwaysFiring' && a.state === 'firing',
        );
        return rec.data.result.length > 0 && firing ? true : undefined;
      },
      diag,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, exporterUrl, deadPort, dataDir, stop };
}
