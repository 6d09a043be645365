/** Running terraform for a tool: the working directory checked, the runner's limits from config. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ToolCtx, ToolError, toolkit } from '@infra-mcp/core';
import { z } from 'zod';
import { resolveUnder } from '../paths.js';
import { failure, type RunResult, run } from '../runner.js';
import type { TerraformConfig } from './config.js';

export interface TerraformClient {
  config: TerraformConfig;
  instance: string;
  mask: (text: string) => string;
  planDir: string;
}

export type Ctx = ToolCtx<TerraformClient, TerraformConfig>;
export const tool = toolkit<TerraformClient, TerraformConfig>();

export const dirArg = z
  .string()
  .min(1)
  .describe('Configuration directory, relative to the configured root (e.g. "envs/prod")');

const SECRET_NAME = /SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|_KEY$|PRIVATE/i;

export function makeClient(
  config: TerraformConfig,
  instance: string,
  mask: (t: string) => string,
  secret: (v: string | undefined) => void,
): TerraformClient {
  // values of allow-listed variables that look like credentials are masked wherever they show
  for (const [k, v] of Object.entries(process.env)) if (SECRET_NAME.test(k)) secret(v);
  const planDir = config.planDir ?? mkdtempSync(join(tmpdir(), 'infra-mcp-tfplan-'));
  return { config, instance, mask, planDir };
}

/** The real working directory under `root` (a denied error for anything else). */
export function workdir(ctx: Ctx, dir: string): string {
  return resolveUnder(ctx.config.root, dir, { argument: 'dir', rootKey: `plugins.terraform.root` });
}

/** Runs `terraform <args>` in `cwd`; a non-zero exit (other than `okCodes`) is a command_failed error. */
export async function terraform(
  ctx: Ctx,
  cwd: string,
  args: string[],
  opts: { okCodes?: number[]; maxOutputBytes?: number; signal?: AbortSignal } = {},
): Promise<RunResult> {
  const c = ctx.client.config;
  const r = await run({
    binary: c.binary,
    binaryKey: 'plugins.terraform.binary (env TERRAFORM_BINARY)',
    args,
    cwd,
    env: { from: process.env, allow: c.env, set: { TF_IN_AUTOMATION: '1', TF_INPUT: '0' } },
    timeoutMs: c.timeoutMs,
    maxOutputBytes: opts.maxOutputBytes ?? c.maxOutputBytes,
    mask: ctx.client.mask,
    signal: opts.signal ?? ctx.signal,
  });
  if (r.timedOut || !(opts.okCodes ?? [0]).includes(r.exitCode ?? -1))
    throw failure(
      `${c.binary} ${args[0]}${args[1] && !args[1].startsWith('-') ? ` ${args[1]}` : ''}`,
      r,
      'fix what the message says and call again',
    );
  return r;
}

/** Parses a JSON document a run printed; a capped or broken one is an error (never a partial summary). */
export function parseJson<T>(r: RunResult, what: string): T {
  if (r.capped)
    throw new ToolError(
      'output_too_large',
      `${what} printed ${r.stdoutBytes} bytes, over the configured cap`,
      'raise plugins.terraform.maxPlanJsonBytes',
    );
  try {
    return JSON.parse(r.stdout) as T;
  } catch (e) {
    throw new ToolError(
      'backend_error',
      `${what} did not print valid JSON: ${(e as Error).message}`,
      'check the terraform version (>= 0.12)',
    );
  }
}
