/**
 * What an approved upgrade installs: the chart packaged (`helm package`) and the values files copied
 * into a private directory at the preview, so the approved run uses exactly what was reviewed even
 * if the files under the charts root change in between.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolError } from '@infra-mcp/core';
import { type Ctx, helm } from './cli.js';

export interface Snapshot {
  dir: string;
  chart: string;
  values: string[];
  /** sha256 of each file above, to tell if the held files were touched. */
  sha256: Record<string, string>;
}

const hashOf = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

export async function snapshot(ctx: Ctx, chartDir: string, valueFiles: string[]): Promise<Snapshot> {
  const dir = await mkdtemp(join(ctx.client.home, 'release-'));
  try {
    await helm(ctx, ['package', chartDir, '-d', join(dir, 'chart')]);
    const [tgz] = await readdir(join(dir, 'chart'));
    if (!tgz) throw new ToolError('backend_error', 'helm package wrote no chart archive', 'check the chart');
    const chart = join(dir, 'chart', tgz);
    const values: string[] = [];
    for (const [i, f] of valueFiles.entries()) {
      const copy = join(dir, `values-${i}.yaml`);
      await copyFile(f, copy);
      values.push(copy);
    }
    const sha256: Record<string, string> = {};
    for (const f of [chart, ...values]) sha256[f] = await hashOf(f);
    return { dir, chart, values, sha256 };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** stale_plan when a held file is gone or changed. */
export async function verifySnapshot(s: Snapshot): Promise<void> {
  for (const [file, sha] of Object.entries(s.sha256)) {
    const now = await hashOf(file).catch(() => null);
    if (now !== sha)
      throw new ToolError(
        'stale_plan',
        now === null
          ? 'the reviewed chart is gone (expired or already used)'
          : 'the reviewed chart or values were changed since the preview',
        'preview again (call without approval)',
      );
  }
}

export async function dropSnapshot(s: Snapshot): Promise<void> {
  await rm(s.dir, { recursive: true, force: true });
}
