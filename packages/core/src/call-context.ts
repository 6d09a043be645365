import type { LogLevel } from './log.js';
import type { ElicitResult, SampleParams, SampleResult } from './plugin.js';
import type { Access } from './scopes.js';

/** Who is calling (HTTP bearer token name, OAuth subject) and the SDK's per-request handles. */
export interface CallContext {
  caller?: string;
  /** The request's `_meta`: a W3C `traceparent` there makes the call's span a child of the client's. */
  meta?: Record<string, unknown>;
  /** What the caller's OAuth access token grants (scopes); absent: policy alone decides. */
  access?: Access;
  signal?: AbortSignal;
  progressToken?: string | number;
  sendNotification?: (n: { method: string; params: Record<string, unknown> }) => Promise<void>;
  logLevel?: LogLevel;
  /** Ask the human to approve a write (`approvals.mode: 'elicit'`); only where the client declared elicitation. */
  elicit?: (message: string) => Promise<boolean>;
  /** Tool-initiated elicitation (`ctx.elicit`), sent as part of this request. */
  elicitInput?: (
    message: string,
    requestedSchema: object,
    options: ClientRequestOptions,
  ) => Promise<ElicitResult>;
  /** Tool-initiated sampling (`ctx.sample`), sent as part of this request. */
  createMessage?: (params: SampleParams, options: ClientRequestOptions) => Promise<SampleResult>;
  /** Sees every progress step (`ctx.progress`, `ctx.poll`), with or without a progress token: a task's status. */
  onProgress?: (progress: number, total?: number, message?: string) => void;
  /**
   * When an approved change stops waiting (`ctx.deadline`, `ctx.poll`) and answers "still running"
   * (epoch ms). Default: the tool's timeout. A call run as a task waits as long as the task lives.
   */
  runDeadline?: number;
}

/** How long a server->client request may wait (the tool's own timeout) and what cancels it. */
export interface ClientRequestOptions {
  signal: AbortSignal;
  timeoutMs: number;
}
