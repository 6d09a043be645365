import { posix } from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { ErrorCodes, ToolError } from './errors.js';

/**
 * Glob matching for policy tool names and argument allow-lists, with picomatch:
 * `*` and `?` never cross `/` (a path segment), `**` crosses segments, `{a,b}` alternatives,
 * `{100..199}` integer ranges, `[a-z]` classes, and `!pattern` negates. Dots are ordinary
 * characters (`*` matches `.hidden`). Whole-value match, case-sensitive.
 */
const OPTIONS: picomatch.PicomatchOptions = { dot: true, expandRange, strictBrackets: true };

/** Largest integer range a `{a..b}` pattern may expand to. */
const MAX_RANGE = 100_000;

function expandRange(a: string, b: string): string {
  const x = Number(a);
  const y = Number(b);
  if (!/^-?\d+$/.test(a) || !/^-?\d+$/.test(b) || Math.abs(y - x) > MAX_RANGE) {
    throw new Error(`{${a}..${b}}: ranges are integers, at most ${MAX_RANGE} apart`);
  }
  const values: number[] = [];
  for (let i = Math.min(x, y); i <= Math.max(x, y); i++) values.push(i);
  return `(?:${values.join('|')})`;
}

const matchers = new Map<string, (value: string) => boolean>();

function matcherOf(glob: string): (value: string) => boolean {
  let m = matchers.get(glob);
  if (!m) {
    if (matchers.size > 10_000) matchers.clear();
    m = picomatch(glob, OPTIONS);
    matchers.set(glob, m);
  }
  return m;
}

/** A glob as a regular expression (picomatch semantics; a leading `!` is not special here). */
export function globToRegExp(glob: string): RegExp {
  return picomatch.makeRe(glob, OPTIONS);
}

/** Throws a readable Error when a pattern cannot be compiled (an unbalanced `[`, a huge range). */
export function checkGlob(glob: string): void {
  try {
    picomatch.makeRe(glob.startsWith('!') ? glob.slice(1) : glob, OPTIONS);
  } catch (err) {
    throw new Error(`bad glob pattern "${glob}": ${(err as Error).message}`);
  }
}

/**
 * Whether `value` is matched by a list of globs. Patterns starting with `!` exclude: the value must
 * match at least one positive pattern (or there are none) and no negative one. So
 * `['team-*', '!team-secret']` is every team namespace but one, and `['!kube-*']` is all but `kube-*`.
 * An empty or absent list matches nothing.
 */
export function matchesAny(value: string, globs: readonly string[] | undefined): boolean {
  if (!globs || globs.length === 0) return false;
  let positives = 0;
  let matched = false;
  for (const g of globs) {
    if (g.startsWith('!')) {
      if (matcherOf(g.slice(1))(value)) return false;
    } else {
      positives++;
      if (!matched && matcherOf(g)(value)) matched = true;
    }
  }
  return positives === 0 || matched;
}

/**
 * Allow-lists on argument values, keyed by argument: `{ namespace: ['team-*'], vmid: ['{100..199}'] }`.
 * An argument without a list is not restricted; an empty list allows nothing.
 */
export type AllowList = Partial<Record<string, string[]>>;

/** A list of glob patterns, each checked at config load (a bad pattern is a config error, not a silent no-match). */
export const globListSchema = z.array(
  z.string().superRefine((g, ctx) => {
    try {
      checkGlob(g);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  }),
);

/**
 * Zod schema of an `allow` config field for the named arguments, to put in a plugin's config:
 *
 *   config: z.object({ ..., allow: allowListSchema({ namespace: 'Namespaces tools may touch' }) })
 *
 * Unknown argument names are refused at start (a typo must not silently allow everything).
 */
export function allowListSchema<const K extends string>(args: Record<K, string>) {
  const shape = Object.fromEntries(
    Object.entries(args).map(([name, what]) => [
      name,
      globListSchema.optional().describe(`${what as string}: glob patterns (picomatch; !pattern excludes)`),
    ]),
  ) as Record<K, z.ZodOptional<typeof globListSchema>>;
  return z
    .strictObject(shape)
    .optional()
    .describe('Allow-lists on argument values; an argument without a list is not restricted');
}

export interface CheckAllowedOptions {
  /** The value is a filesystem path: made absolute and normalised (`..` resolved) before matching. */
  path?: boolean;
  /** Where the operator sets the list, for the hint (e.g. `plugins.k8s.allow.namespace`). */
  configKey?: string;
  /** Who refuses, for the message (e.g. `prometheus instance "prod"`). */
  where?: string;
}

/**
 * Check an argument value against the configured allow-list of that argument; throws a `denied`
 * ToolError naming the argument, the value and the allowed patterns. No list for the argument: allowed.
 * Returns the value that was checked (the normalised path with `path: true`): use that one.
 */
export function checkAllowed(
  allow: AllowList | undefined,
  argument: string,
  value: string | number,
  options: CheckAllowedOptions = {},
): string {
  let text = String(value);
  if (options.path) {
    if (!text.startsWith('/')) {
      throw new ToolError(
        ErrorCodes.denied,
        `${argument} "${text}" is not an absolute path`,
        'pass an absolute path (starting with /)',
      );
    }
    text = posix.normalize(text);
    if (text.length > 1 && text.endsWith('/')) text = text.slice(0, -1);
  }
  const patterns = allow?.[argument];
  if (patterns === undefined) return text;
  if (!matchesAny(text, patterns)) {
    const shown = JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
    throw new ToolError(
      ErrorCodes.denied,
      `${argument} ${shown} is not allowed${options.where ? ` on ${options.where}` : ''}: allowed ${argument} patterns are ${patterns.length ? patterns.join(', ') : '(none)'}`,
      `use a ${argument} matching one of the allowed patterns${options.configKey ? `; the operator sets them in ${options.configKey}` : ''}`,
      { argument, value: text, allowed: patterns },
    );
  }
  return text;
}
