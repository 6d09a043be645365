/**
 * Working directories and chart paths under a configured root: relative to it, no `..`, no symlink
 * that leads out of it (checked on the real path).
 */
import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ToolError } from '@infra-mcp/core';

/**
 * The real path of `path` (relative to `root`, or absolute inside it) when it lies under `root`;
 * a `denied` ToolError otherwise (naming the argument and the config key of the root).
 */
export function resolveUnder(
  root: string | undefined,
  path: string,
  opts: { argument: string; rootKey: string; kind?: 'directory' | 'any' },
): string {
  if (!root)
    throw new ToolError(
      'not_configured',
      `no root is configured for ${opts.argument}`,
      `set ${opts.rootKey} to the directory that holds them`,
    );
  const denied = (why: string) =>
    new ToolError(
      'denied',
      `${opts.argument} "${path}" ${why}`,
      `pass a path under ${opts.rootKey} (${root})`,
      {
        argument: opts.argument,
        value: path,
      },
    );
  if (path.split(/[\\/]/).includes('..')) throw denied('contains ".."');
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new ToolError('not_configured', `${opts.rootKey} "${root}" does not exist`, `fix ${opts.rootKey}`);
  }
  const abs = isAbsolute(path) ? path : join(realRoot, path);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw new ToolError(
      'not_found',
      `${opts.argument} "${path}" does not exist under ${opts.rootKey}`,
      'check the path',
    );
  }
  const rel = relative(realRoot, real);
  if (rel.startsWith('..') || isAbsolute(rel) || (rel !== '' && rel.split(sep)[0] === '..'))
    throw denied(`leads outside ${opts.rootKey}`);
  if ((opts.kind ?? 'directory') === 'directory' && !statSync(real).isDirectory())
    throw new ToolError('bad_argument', `${opts.argument} "${path}" is not a directory`, 'pass a directory');
  return real;
}
