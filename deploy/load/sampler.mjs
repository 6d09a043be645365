// Peak RSS and CPU time of processes by pid, read from /proc once a second (Linux).
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function read(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    // fields after the command name (which may hold spaces): utime and stime are the 12th and 13th
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rss: rssKb * 1024, cpu: (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined; // gone (a killed replica)
  }
}

export class ResourceSampler {
  /** @param {Record<string, number>} pids label -> pid */
  constructor(pids) {
    this.pids = pids;
    this.seen = new Map();
  }

  sample() {
    for (const [label, pid] of Object.entries(this.pids)) {
      const now = read(pid);
      if (!now) continue;
      const s = this.seen.get(label) ?? { peakRss: 0, cpu0: now.cpu, cpu: now.cpu };
      s.peakRss = Math.max(s.peakRss, now.rss);
      s.cpu = now.cpu;
      this.seen.set(label, s);
    }
  }

  start() {
    this.t0 = Date.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
  }

  /** CPU of each process while sampled, as % of one core. */
  totals() {
    clearInterval(this.timer);
    this.sample();
    const wall = (Date.now() - this.t0) / 1000;
    return Object.fromEntries([...this.seen].map(([label, s]) => [label, (100 * (s.cpu - s.cpu0)) / wall]));
  }

  /** One line per process: peak RSS, CPU seconds and share of one core while sampled. */
  stop() {
    clearInterval(this.timer);
    this.sample();
    const wall = (Date.now() - this.t0) / 1000;
    const lines = [];
    let total = 0;
    for (const [label, s] of this.seen) {
      const cpu = s.cpu - s.cpu0;
      total += cpu;
      lines.push(
        `${label}: peak RSS ${(s.peakRss / 2 ** 20).toFixed(0)} MiB, CPU ${cpu.toFixed(1)} s (${((100 * cpu) / wall).toFixed(0)}% of a core)`,
      );
    }
    lines.push(
      `all: CPU ${total.toFixed(1)} s in ${wall.toFixed(1)} s (${((100 * total) / wall).toFixed(0)}% of a core)`,
    );
    return lines;
  }
}
