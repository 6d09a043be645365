/**
 * Plan files: `terraform plan -out=<file>` into the server's private plan directory, read back with
 * `show -json`, hashed, and the state's lineage/serial noted so an apply can tell if the world moved.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import { resolveUnder } from '../paths.js';
import { type Ctx, parseJson, terraform, workdir } from './cli.js';
import { type PlanSummary, summarisePlan } from './summary.js';

export const planArgs = {
  varFiles: z
    .array(z.string())
    .max(16)
    .default([])
    .describe('Variable files, relative to dir (must stay under the root)'),
  targets: z
    .array(z.string())
    .max(64)
    .default([])
    .describe('Resource addresses to limit the plan to (-target)'),
  destroy: z.boolean().default(false).describe('Plan the destruction of everything (-destroy)'),
};

export interface PlanArgs {
  dir: string;
  varFiles: string[];
  targets: string[];
  destroy: boolean;
}

export interface StateMark {
  serial: number | null;
  lineage: string | null;
}

export interface PlanFile {
  file: string;
  sha256: string;
  cwd: string;
  state: StateMark;
  summary: PlanSummary;
}

export async function fileHash(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

/** The state's lineage and serial (`state pull`): null for a configuration with no state yet. */
export async function stateMark(ctx: Ctx, cwd: string): Promise<StateMark> {
  const r = await terraform(ctx, cwd, ['state', 'pull'], { maxOutputBytes: ctx.config.maxPlanJsonBytes });
  if (!r.stdout.trim()) return { serial: null, lineage: null };
  const s = parseJson<{ serial?: number; lineage?: string }>(r, 'terraform state pull');
  return { serial: s.serial ?? null, lineage: s.lineage ?? null };
}

export async function makePlan(ctx: Ctx, args: PlanArgs): Promise<PlanFile> {
  const cwd = workdir(ctx, args.dir);
  const varFiles = args.varFiles.map((f) => {
    // checked like the directory itself: no `..`, no symlink out of the root
    workdirFile(ctx, `${args.dir}/${f}`);
    return `-var-file=${f}`;
  });
  const state = await stateMark(ctx, cwd);
  const file = join(ctx.client.planDir, `${randomUUID()}.tfplan`);
  try {
    await terraform(
      ctx,
      cwd,
      [
        'plan',
        '-input=false',
        '-no-color',
        '-detailed-exitcode',
        `-lock-timeout=${ctx.config.lockTimeout}`,
        `-out=${file}`,
        ...(args.destroy ? ['-destroy'] : []),
        ...varFiles,
        ...args.targets.map((t) => `-target=${t}`),
      ],
      { okCodes: [0, 2] },
    );
    const show = await terraform(ctx, cwd, ['show', '-json', '-no-color', file], {
      maxOutputBytes: ctx.config.maxPlanJsonBytes,
    });
    const summary = summarisePlan(parseJson(show, 'terraform show -json'));
    return { file, sha256: await fileHash(file), cwd, state, summary };
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
}

/** A var file is a file, not a directory: checked under the root the same way. */
function workdirFile(ctx: Ctx, path: string): string {
  return resolveUnder(ctx.config.root, path, {
    argument: 'varFiles',
    rootKey: 'plugins.terraform.root',
    kind: 'any',
  });
}

/** Throws stale_plan when the plan file is gone, was changed, or the state moved since the plan. */
export async function verifyPlan(ctx: Ctx, held: PlanFile): Promise<void> {
  let hash: string;
  try {
    hash = await fileHash(held.file);
  } catch {
    throw new ToolError(
      'stale_plan',
      'the plan file is gone (expired or already used)',
      'preview again (call without approval)',
    );
  }
  if (hash !== held.sha256)
    throw new ToolError(
      'stale_plan',
      'the plan file changed since the preview',
      'preview again (call without approval)',
    );
  const now = await stateMark(ctx, held.cwd);
  if (now.serial !== held.state.serial || now.lineage !== held.state.lineage)
    throw new ToolError(
      'stale_plan',
      `the state moved since the preview (serial ${held.state.serial} -> ${now.serial}${now.lineage !== held.state.lineage ? ', other lineage' : ''})`,
      'preview again (call without approval)',
    );
}
