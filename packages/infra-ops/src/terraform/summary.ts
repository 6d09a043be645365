/**
 * A plan's summary from `terraform show -json <planfile>`: counts, each resource address with its
 * action, drift and output changes. Only addresses, actions and reasons are read: attribute values
 * (sensitive or not) never reach an answer.
 */

export type Action = 'create' | 'update' | 'delete' | 'replace' | 'read' | 'no-op' | 'forget' | 'unknown';

export interface ResourceAction {
  address: string;
  action: Action;
  /** Why (Terraform's action_reason, e.g. replace_because_tainted). */
  reason?: string;
  /** The address before a `moved` block. */
  movedFrom?: string;
}

export interface PlanSummary {
  counts: { add: number; change: number; destroy: number; replace: number; read: number; noop: number };
  resources: ResourceAction[];
  /** Changes made outside Terraform since the last apply (resource_drift). */
  drift: ResourceAction[];
  outputs: { name: string; action: Action }[];
  /** Whether applying would delete anything (delete or replace). */
  destructive: boolean;
  terraformVersion?: string;
}

interface ShowJson {
  terraform_version?: string;
  resource_changes?: RawChange[];
  resource_drift?: RawChange[];
  output_changes?: Record<string, { actions: string[] }>;
}
interface RawChange {
  address: string;
  previous_address?: string;
  action_reason?: string;
  change: { actions: string[] };
}

/** Terraform's action list as one action: [delete, create] and [create, delete] are a replace. */
export function actionOf(actions: readonly string[]): Action {
  const a = [...actions].sort().join(',');
  switch (a) {
    case 'create,delete':
      return 'replace';
    case 'create':
    case 'update':
    case 'delete':
    case 'read':
    case 'no-op':
    case 'forget':
      return a;
    default:
      return 'unknown';
  }
}

const entry = (r: RawChange): ResourceAction => ({
  address: r.address,
  action: actionOf(r.change.actions),
  ...(r.action_reason ? { reason: r.action_reason } : {}),
  ...(r.previous_address && r.previous_address !== r.address ? { movedFrom: r.previous_address } : {}),
});

export function summarisePlan(show: ShowJson): PlanSummary {
  const resources = (show.resource_changes ?? []).map(entry);
  const counts = { add: 0, change: 0, destroy: 0, replace: 0, read: 0, noop: 0 };
  for (const r of resources) {
    if (r.action === 'create') counts.add++;
    else if (r.action === 'update') counts.change++;
    else if (r.action === 'delete') counts.destroy++;
    else if (r.action === 'replace') counts.replace++;
    else if (r.action === 'read') counts.read++;
    else if (r.action === 'no-op') counts.noop++;
  }
  return {
    counts,
    resources,
    drift: (show.resource_drift ?? []).map(entry),
    outputs: Object.entries(show.output_changes ?? {})
      .map(([name, c]) => ({ name, action: actionOf(c.actions) }))
      .filter((o) => o.action !== 'no-op'),
    destructive: resources.some((r) => r.action === 'delete' || r.action === 'replace'),
    ...(show.terraform_version ? { terraformVersion: show.terraform_version } : {}),
  };
}

const SIGN: Record<Action, string> = {
  create: '+',
  update: '~',
  delete: '-',
  replace: '-/+',
  read: '<=',
  'no-op': ' ',
  forget: '.',
  unknown: '?',
};

/** "Plan: 2 to add, 1 to change, 0 to destroy, 1 to replace" (replacements apart, unlike terraform's own line). */
export function countsLine(s: PlanSummary): string {
  const c = s.counts;
  const moved = s.resources.filter((r) => r.movedFrom).length;
  const extra = [
    moved ? `${moved} moved` : '',
    s.outputs.length ? `${s.outputs.length} outputs change` : '',
    s.drift.length ? `${s.drift.length} drifted outside terraform` : '',
  ].filter(Boolean);
  return `${c.add} to add, ${c.change} to change, ${c.destroy} to destroy, ${c.replace} to replace${extra.length ? `; ${extra.join(', ')}` : ''}`;
}

/** One line per changing resource (no-ops left out: they are counted). */
export function resourceLine(r: ResourceAction): string {
  // the sign says the action (terraform's own notation: + create, ~ update, - delete, -/+ replace, <= read)
  const notes = [r.reason, r.movedFrom ? `moved from ${r.movedFrom}` : undefined].filter(Boolean);
  return `${SIGN[r.action].padEnd(3)} ${r.address}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}
