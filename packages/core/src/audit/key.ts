import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * Where the audit key and head checkpoints live: $XDG_CONFIG_HOME/infra-mcp (~/.config/infra-mcp),
 * apart from the log ($XDG_STATE_HOME/infra-mcp/audit.jsonl), so whoever can rewrite the log file
 * cannot recompute its hashes or move its head.
 */
export function auditKeyDir(env: Record<string, string | undefined> = process.env): string {
  const config = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(config, 'infra-mcp');
}

export function defaultAuditKeyFile(env: Record<string, string | undefined> = process.env): string {
  return join(auditKeyDir(env), 'audit.key');
}

/** The head checkpoint of one log file: a file next to the key, named by the log's absolute path. */
export function defaultCheckpointPath(
  logPath: string,
  env: Record<string, string | undefined> = process.env,
): string {
  const id = createHash('sha256').update(resolve(logPath)).digest('hex').slice(0, 16);
  return join(auditKeyDir(env), 'audit-heads', `${id}.json`);
}

export interface AuditKeyOptions {
  /** The key itself (≥ 16 characters). Default: `INFRA_MCP_AUDIT_KEY`, else the key file. */
  key?: string | Uint8Array;
  /** Key file (default `~/.config/infra-mcp/audit.key`), created 0600 with 32 random bytes at first use. */
  keyFile?: string;
  env?: Record<string, string | undefined>;
}

function checkKey(key: string | Uint8Array, source: string): Uint8Array {
  const buf = typeof key === 'string' ? Buffer.from(key.trim(), 'utf8') : key;
  if (buf.length < 16) throw new Error(`${source}: the audit key must be at least 16 characters`);
  return buf;
}

/** Read the audit key; `create` makes the key file (0600) when there is none. */
export function loadAuditKey(options: AuditKeyOptions = {}, create = true): Uint8Array {
  const env = options.env ?? process.env;
  if (options.key !== undefined) return checkKey(options.key, 'audit key');
  if (env.INFRA_MCP_AUDIT_KEY) return checkKey(env.INFRA_MCP_AUDIT_KEY, 'INFRA_MCP_AUDIT_KEY');
  const file = options.keyFile ?? defaultAuditKeyFile(env);
  try {
    return checkKey(readFileSync(file, 'utf8'), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new Error(
          `no audit key: ${file} does not exist and INFRA_MCP_AUDIT_KEY is not set (the key is created by the server that writes the log)`,
        );
      throw err;
    }
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    // another process created it first: use theirs
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  for (let i = 0; ; i++) {
    const text = readFileSync(file, 'utf8');
    if (text.endsWith('\n') || i > 50) return checkKey(text, file);
  }
}

/** The newest record of a chain as the writer last left it. */
export interface ChainHead {
  seq: number;
  hash: string;
  /** When the writer last appended (ISO time). */
  at: string;
}

/** The head checkpoint: the file's last record and the newest heads of its chains. */
export interface AuditCheckpoint {
  v: 1;
  file: string;
  last?: { chain: string; seq: number; hash: string };
  chains: Record<string, ChainHead>;
}

/** Chains a checkpoint keeps (most recently appended first); older chains are checked only for internal consistency. */
export const CHECKPOINT_CHAINS = 64;

export function readCheckpoint(path: string): AuditCheckpoint | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as AuditCheckpoint;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${path}: audit checkpoint unreadable: ${(err as Error).message}`);
  }
}

/** Keep the CHECKPOINT_CHAINS most recently appended chains. */
export function pruneCheckpoint(cp: AuditCheckpoint): void {
  const names = Object.keys(cp.chains);
  if (names.length <= CHECKPOINT_CHAINS) return;
  const oldest = names
    .sort((a, b) => cp.chains[b]!.at.localeCompare(cp.chains[a]!.at))
    .slice(CHECKPOINT_CHAINS);
  for (const n of oldest) delete cp.chains[n];
}
