import { randomUUID } from 'node:crypto';
import {
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';

/** What a lock file holds: who took it, where, when. */
export interface LockOwner {
  pid: number;
  host: string;
  time: number;
  nonce: string;
}

export interface LockOptions {
  /** Give up after this long (default 5 s). */
  waitMs?: number;
  /** A lock older than this is stale whoever holds it (default 30 s; covers holders on other hosts). */
  staleMs?: number;
  /** After replacing a stale lock, wait this long before re-checking it is still ours (default 25 ms). */
  settleMs?: number;
}

const HOST = hostname();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(lock: string): { owner?: LockOwner; mtimeMs: number } | undefined {
  try {
    const mtimeMs = statSync(lock).mtimeMs;
    try {
      const owner = JSON.parse(readFileSync(lock, 'utf8')) as LockOwner;
      return { owner: typeof owner?.pid === 'number' ? owner : undefined, mtimeMs };
    } catch {
      return { mtimeMs };
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Why a held lock is stale, or undefined while its holder may be alive. */
export function lockStaleReason(lock: string, staleMs = 30_000): string | undefined {
  const seen = readOwner(lock);
  if (!seen) return undefined;
  const { owner, mtimeMs } = seen;
  const age = Date.now() - (owner?.time ?? mtimeMs);
  if (owner && owner.host === HOST && !pidAlive(owner.pid)) return `holder pid ${owner.pid} is dead`;
  // created but never written (the holder died between create and write): give it a moment
  if (!owner && Date.now() - mtimeMs > 2000) return 'lock file has no owner';
  if (age > staleMs) return `held for ${Math.round(age / 1000)} s`;
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Take an exclusive lock file. A free lock is created with O_EXCL (synchronous, no wait). A lock
 * whose holder is dead (same host, pid gone) or too old is replaced atomically: a fresh lock with a
 * unique nonce is renamed over it, then after `settleMs` the file is read back and kept only if it
 * still holds our nonce. Several processes that saw the same stale lock each rename over it within
 * microseconds; the re-check after the settle time lets exactly the last one keep it.
 * Returns the release function.
 */
export async function acquireLock(lock: string, options: LockOptions = {}): Promise<() => void> {
  const waitMs = options.waitMs ?? 5000;
  const staleMs = options.staleMs ?? 30_000;
  const settleMs = options.settleMs ?? 25;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const owner: LockOwner = { pid: process.pid, host: HOST, time: Date.now(), nonce: randomUUID() };
    const content = JSON.stringify(owner);
    try {
      const fd = openSync(lock, 'wx', 0o600);
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      return () => release(lock, owner.nonce);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const stale = lockStaleReason(lock, staleMs);
    if (stale) {
      const tmp = `${lock}.${owner.nonce}`;
      writeFileSync(tmp, content, { mode: 0o600 });
      renameSync(tmp, lock);
      await sleep(settleMs);
      if (readOwner(lock)?.owner?.nonce === owner.nonce) return () => release(lock, owner.nonce);
      continue; // another process took it over after us: wait for it like for any holder
    }
    if (Date.now() > deadline) {
      const held = readOwner(lock)?.owner;
      throw new Error(
        `audit log is locked by another process (${lock}${held ? `: pid ${held.pid} on ${held.host}` : ''}); remove the file if no infra-mcp is running`,
      );
    }
    await sleep(1 + Math.random() * 4);
  }
}

/** Remove the lock if it is still ours. */
function release(lock: string, nonce: string): void {
  if (readOwner(lock)?.owner?.nonce === nonce) rmSync(lock, { force: true });
}
