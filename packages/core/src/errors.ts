/**
 * An error a tool returns to the model as an `isError` result: a stable machine code, a one-line
 * message saying what was wrong, and a hint saying what to do instead.
 */
export class ToolError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** Stable error codes used by core. Plugins add their own (snake_case). */
export const ErrorCodes = {
  invalidArguments: 'invalid_arguments',
  denied: 'denied_by_policy',
  approvalInvalid: 'approval_invalid',
  approvalExpired: 'approval_expired',
  stalePlan: 'stale_plan',
  timeout: 'timeout',
  cancelled: 'cancelled',
  unknownInstance: 'unknown_instance',
  notConfigured: 'not_configured',
  backendUnreachable: 'backend_unreachable',
  backendError: 'backend_error',
  overBudget: 'over_budget',
  auditFailed: 'audit_failed',
  /** The client lacks a capability the tool used (ctx.elicit, ctx.sample). */
  clientUnsupported: 'client_unsupported',
  /** The client's answer to ctx.elicit does not match the requested schema. */
  invalidClientAnswer: 'invalid_client_answer',
  /** Too many calls at once (server-wide or for this caller); retry shortly. */
  busy: 'busy',
  /** Two plans of the same arguments differed: the tool's `plan` is not deterministic (a plugin bug). */
  planNotDeterministic: 'plan_not_deterministic',
  /** The caller's OAuth access token lacks the scope the tool's effect needs. */
  insufficientScope: 'insufficient_scope',
  internal: 'internal_error',
} as const;

/** Startup / configuration error: names the source, the key, what was expected and an example. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Duck-typed so a plugin built against another copy of core still gets its code and hint through. */
export function isToolError(err: unknown): err is ToolError {
  return (
    err instanceof ToolError ||
    (err instanceof Error && err.name === 'ToolError' && typeof (err as ToolError).code === 'string')
  );
}
