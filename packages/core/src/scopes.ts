import type { Effect } from './plugin.js';

/** OAuth scope names that grant each kind of tool. */
export interface ScopeNames {
  read: string;
  write: string;
  destructive: string;
}

export const DEFAULT_SCOPES: ScopeNames = {
  read: 'infra-mcp:read',
  write: 'infra-mcp:write',
  destructive: 'infra-mcp:destructive',
};

/**
 * What an OAuth access token lets its caller do. Absent for static bearer tokens and stdio: then
 * policy alone decides.
 */
export interface Access {
  /** The token's scopes. */
  scopes: readonly string[];
  names: ScopeNames;
}

const RANK: Record<Effect, number> = { read: 0, write: 1, destructive: 2 };
const EFFECTS: readonly Effect[] = ['read', 'write', 'destructive'];

/**
 * Scopes are cumulative: the write scope also grants reads, the destructive scope grants writes and
 * reads (a caller allowed to delete is allowed to look first).
 */
export function grants(access: Access, effect: Effect): boolean {
  return EFFECTS.some((e) => RANK[e] >= RANK[effect] && access.scopes.includes(access.names[e]));
}

/** Why a tool of `effect` may not run with this token, or undefined when its scopes grant it. */
export function scopeRefusal(tool: string, effect: Effect, access: Access | undefined): string | undefined {
  if (!access || grants(access, effect)) return undefined;
  const kind = effect === 'read' ? 'a read tool' : `a ${effect} tool`;
  return `${tool} is ${kind} and the access token lacks scope ${access.names[effect]} (it has: ${access.scopes.join(' ') || 'no scopes'})`;
}
