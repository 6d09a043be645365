import { z } from 'zod';
import { globListSchema, matchesAny } from './allow.js';
import type { Effect } from './plugin.js';

/** Tool-name globs: picomatch semantics (see allow.ts); `!pattern` excludes. Kept exported from here. */
export { globToRegExp, matchesAny } from './allow.js';

const globs = (what: string) => globListSchema.optional().describe(what);

export const policyRulesSchema = z.strictObject({
  readOnly: z.boolean().optional().describe('Hide and refuse write/destructive tools'),
  allow: globs(
    'Glob patterns on full tool names (picomatch: *, {a,b}, !pattern excludes); when set, only these are served',
  ),
  deny: globs('Glob patterns on full tool names that are never served'),
});

export type PolicyRules = z.infer<typeof policyRulesSchema>;

export interface Policy extends PolicyRules {
  /** Read-only that no plugin or instance rule can lift (set by --read-only / INFRA_MCP_READ_ONLY). */
  enforceReadOnly?: boolean;
  /**
   * Toolsets to list (`--toolsets`): names (`query`), `plugin/name`, `all`, `default`. They choose
   * what is listed, not what may run. See `RegistryOptions.toolsets`.
   */
  toolsets?: string[];
  /** Per-plugin rules, optionally with per-instance rules (e.g. prod read-only, dev writable). */
  plugins?: Record<string, PolicyRules & { instances?: Record<string, PolicyRules> }>;
}

export interface Decision {
  allowed: boolean;
  /** Why not, in words the model and the user can act on. */
  reason?: string;
}

/**
 * Decide whether a tool may run. Rules stack from global to plugin to instance: any level's
 * `readOnly: true` or `deny` match refuses; an `allow` list at any level must match. A more
 * specific level can lift `readOnly` by setting `readOnly: false` (e.g. dev writable in a read-only server).
 */
export function decide(
  policy: Policy,
  tool: string,
  effect: Effect,
  pluginId: string,
  instance?: string,
): Decision {
  if (effect !== 'read' && policy.enforceReadOnly) {
    return { allowed: false, reason: `${tool} changes things and this server runs read-only (--read-only)` };
  }
  const plugin = policy.plugins?.[pluginId];
  const levels: [string, PolicyRules | undefined][] = [
    ['server', policy],
    [`plugin ${pluginId}`, plugin],
    [`instance ${pluginId}/${instance}`, instance ? plugin?.instances?.[instance] : undefined],
  ];
  let readOnly: { value: boolean; where: string } | undefined;
  for (const [where, rules] of levels) {
    if (!rules) continue;
    if (rules.readOnly !== undefined) readOnly = { value: rules.readOnly, where };
    if (matchesAny(tool, rules.deny))
      return { allowed: false, reason: `${tool} is denied by the ${where} policy (deny list)` };
    if (rules.allow && !matchesAny(tool, rules.allow)) {
      return { allowed: false, reason: `${tool} is not in the ${where} policy's allow list` };
    }
  }
  if (effect !== 'read' && readOnly?.value) {
    return { allowed: false, reason: `${tool} changes things and the ${readOnly.where} policy is read-only` };
  }
  return { allowed: true };
}

/** Listed when allowed for at least one configured instance. */
export function isListed(
  policy: Policy,
  tool: string,
  effect: Effect,
  pluginId: string,
  instances: readonly string[],
): boolean {
  if (instances.length === 0) return decide(policy, tool, effect, pluginId).allowed;
  return instances.some((i) => decide(policy, tool, effect, pluginId, i).allowed);
}
