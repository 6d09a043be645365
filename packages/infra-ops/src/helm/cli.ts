/** Running helm for a tool: chart and values paths checked under the charts root, the runner's limits from config. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ToolCtx, ToolError, toolkit } from '@infra-mcp/core';
import { z } from 'zod';
import { resolveUnder } from '../paths.js';
import { failure, type RunResult, run } from '../runner.js';
import type { HelmConfig } from './config.js';

export interface HelmClient {
  config: HelmConfig;
  mask: (t: string) => string;
  /** Private helm cache/config/data dirs (helm writes there; nothing is shared with the user's). */
  home: string;
}

export type Ctx = ToolCtx<HelmClient, HelmConfig>;
export const tool = toolkit<HelmClient, HelmConfig>();

export const chartArg = z
  .string()
  .min(1)
  .describe('Chart directory, relative to the configured charts root (e.g. "web")');
export const valuesArg = z
  .array(z.string())
  .max(16)
  .default([])
  .describe('Values files, relative to the charts root (must stay under it)');

export function makeClient(config: HelmConfig, mask: (t: string) => string): HelmClient {
  return { config, mask, home: mkdtempSync(join(tmpdir(), 'infra-mcp-helm-')) };
}

export function chartDir(ctx: Ctx, chart: string): string {
  return resolveUnder(ctx.config.chartsRoot, chart, {
    argument: 'chart',
    rootKey: 'plugins.helm.chartsRoot',
  });
}

/** The real paths of values files, each checked under the charts root. */
export function valuesPaths(ctx: Ctx, files: string[]): string[] {
  return files.map((f) =>
    resolveUnder(ctx.config.chartsRoot, f, {
      argument: 'values',
      rootKey: 'plugins.helm.chartsRoot',
      kind: 'any',
    }),
  );
}

export function valuesFiles(ctx: Ctx, files: string[]): string[] {
  return valuesPaths(ctx, files).flatMap((f) => ['-f', f]);
}

export async function helm(
  ctx: Ctx,
  args: string[],
  opts: { okCodes?: number[]; cwd?: string; hint?: string; rawStdout?: boolean } = {},
): Promise<RunResult> {
  const c = ctx.client.config;
  const h = ctx.client.home;
  const r = await run({
    binary: c.binary,
    binaryKey: 'plugins.helm.binary (env HELM_BINARY)',
    args,
    cwd: opts.cwd ?? c.chartsRoot ?? h,
    env: {
      from: process.env,
      allow: c.env,
      set: {
        HELM_CACHE_HOME: join(h, 'cache'),
        HELM_CONFIG_HOME: join(h, 'config'),
        HELM_DATA_HOME: join(h, 'data'),
      },
    },
    timeoutMs: c.timeoutMs,
    maxOutputBytes: c.maxOutputBytes,
    mask: ctx.client.mask,
    rawStdout: opts.rawStdout,
    signal: ctx.signal,
  });
  if (r.timedOut || !(opts.okCodes ?? [0]).includes(r.exitCode ?? -1))
    throw failure(
      `helm ${args[0]}`,
      // a failure may quote stdout: never unmasked
      opts.rawStdout ? { ...r, stdout: ctx.client.mask(r.stdout) } : r,
      opts.hint ?? 'fix the chart or values as the message says',
    );
  if (r.capped)
    throw new ToolError(
      'output_too_large',
      `helm ${args[0]} printed ${r.stdoutBytes} bytes, over the cap`,
      'raise plugins.helm.maxOutputBytes',
    );
  return r;
}
