import type { z } from 'zod';
import type { Backend } from './backend.js';
import type { DiscoveredInstance, InstancesFromContext } from './instances.js';
import type { Logger } from './log.js';

/** What a tool does to the world. Drives MCP annotations, read-only mode and two-phase approval. */
export type Effect = 'read' | 'write' | 'destructive';

/** What a tool's `run` returns: typed data (-> structuredContent) and an optional compact text rendering. */
export interface ToolResult<O = unknown> {
  data: O;
  /** Compact human/model-readable rendering. Core renders `data` when absent. */
  text?: string;
  /** Set when the tool dropped items to stay within the byte budget. */
  truncated?: boolean;
  /** Extra MCP content blocks (image, audio, resource) sent after the text rendering. */
  content?: Record<string, unknown>[];
  /**
   * Set when the answer is incomplete for a reason other than the budget, e.g. the deadline passed
   * while reading (`ctx.deadline`): says what is missing. Core flags the result as partial instead of
   * failing the call.
   */
  partial?: string;
  /**
   * Not shown: recorded as the audit record's `details` of this call (bounded and scrubbed like
   * results), e.g. a command's argv, exit code and the tail of its output (the operations log).
   */
  audit?: Record<string, unknown>;
}

/** The exact change a write tool would make, computed by `plan` without changing anything. */
export interface Plan<P = unknown, H = unknown> {
  /**
   * Canonical description of the change (JSON data only). Its hash binds the approval token; keep it
   * deterministic: two plans of the same arguments against the same backend state must be equal.
   */
  change: unknown;
  /** What the user is shown (also becomes `structuredContent.preview`). */
  preview: P;
  /** Compact text of the preview. */
  text?: string;
  /** One line saying what would change ("apply 5 objects: 2 created, 3 changed"); shown first, audited. */
  summary?: string;
  /**
   * The preview as a list (one entry per object, resource or step). When the preview is over the
   * call's budget, core shows the summary, the first items that fit, "N more" and a cursor to page
   * the rest, and still issues the approval token.
   */
  items?: PreviewItem[];
  /**
   * Server-held state of the plan (a plan file path, the dry-run objects, the exact request): never
   * hashed, never shown, kept in this process until the approval is used or expires. The approved
   * call gets this plan back (with its handle) and executes exactly it; `discard` is called after.
   */
  handle?: H;
}

/** One entry of a long preview: a line of text (and optionally its structured form). */
export interface PreviewItem {
  text: string;
  data?: unknown;
}

/** One step of `ctx.poll`: done with a value, or still going (with progress to report). */
export type PollStep<T> =
  | { done: true; value: T }
  | { done: false; progress?: number; total?: number; message?: string; status?: string };

/** A long operation that may outlive the call: how the caller polls it later. */
export interface Operation {
  /** The backend's id of the operation (a task UPID, a rollout, a job id). */
  id: string;
  /** The tool call that reports its state later: `{ tool: 'proxmox_task', arguments: { upid } }`. */
  poll: { tool: string; arguments: Record<string, unknown> };
}

export interface PollOptions {
  /** Time between checks (ms). */
  intervalMs: number;
  /** The operation being waited for; returned to the caller when the call's time runs out. */
  operation: Operation;
}

/** The standard answer for an operation still running when the call's time ran out. */
export interface StillRunning extends Operation {
  status: 'running';
  /** The backend's last reported state ("stopping", "50% copied"). */
  message?: string;
  progress?: number;
  total?: number;
  /** Seconds the call waited. */
  waitedSeconds: number;
}

/**
 * Completes one argument of a prompt, or one variable of a resource template (`completion/complete`):
 * the values that fit what the user typed so far. `context.arguments` holds the other arguments
 * already filled in. Core sends at most 100 values and reports the total.
 */
export type Completer<C = any> = (
  value: string,
  context: { arguments?: Record<string, string> },
  /** The plugin client of the instance named in `arguments.instance` (or the default), to ask the backend. */
  ctx: CompletionContext<C>,
) => string[] | Promise<string[]>;

/** What a completer gets to ask the backend: the client, its instance, and a signal for the timeout. */
export interface CompletionContext<C = any> {
  client: C;
  instance: string;
  signal: AbortSignal;
}

/** The user's answer to `ctx.elicit`. `content` (when accepted) matches the requested schema. */
export interface ElicitResult {
  action: 'accept' | 'decline' | 'cancel';
  content?: Record<string, unknown>;
}

/** A content block of a sampling message (`sampling/createMessage`). */
export type SamplingContent =
  | { type: 'text'; text: string }
  | { type: 'image'; data: string; mimeType: string }
  | { type: 'audio'; data: string; mimeType: string };

export interface SamplingMessage {
  role: 'user' | 'assistant';
  content: SamplingContent;
}

/** What a tool asks the client's model (the params of MCP `sampling/createMessage`, without tool use). */
export interface SampleParams {
  messages: SamplingMessage[];
  /** Upper bound of tokens to generate. */
  maxTokens: number;
  systemPrompt?: string;
  temperature?: number;
  stopSequences?: string[];
  /** Hints only; the client picks the model. */
  modelPreferences?: {
    hints?: { name?: string }[];
    costPriority?: number;
    speedPriority?: number;
    intelligencePriority?: number;
  };
  /** Context the client may add; clients may ignore anything but 'none'. */
  includeContext?: 'none' | 'thisServer' | 'allServers';
  metadata?: Record<string, unknown>;
}

/** The client model's answer. */
export interface SampleResult {
  role: 'user' | 'assistant';
  content: SamplingContent;
  /** Name of the model that answered. */
  model: string;
  /** `endTurn`, `stopSequence`, `maxTokens`, or a client-specific reason. */
  stopReason?: string;
}

export interface ToolContext<C = unknown, K = unknown> {
  /** The plugin's client for the selected instance (created lazily by `setup`). */
  client: C;
  /** Name of the selected instance. */
  instance: string;
  /**
   * The resolved options of the selected instance (the plugin's `config` schema, parsed). Always
   * set for tools; typed (and required) in tools made with {@link toolkit} or given to {@link definePlugin}.
   */
  config?: K;
  /**
   * Aborted on client cancellation (`notifications/cancelled`). For reads and plans, also at the
   * tool's timeout. An approved write's signal is cancel-only: it is not aborted at the timeout (a
   * change is not abandoned half-way); it watches `deadline` instead and reports what is still running.
   */
  signal: AbortSignal;
  /**
   * When this call's time runs out (epoch ms). Reads: a little before the hard timeout, so a tool can
   * stop and return what it has with `partial` set. Writes: when `poll` stops waiting.
   */
  deadline: number;
  /**
   * Wait for a long operation: calls `check` every `intervalMs` until it is done, reporting each step as
   * progress. When the deadline passes first (or the client cancels), core ends the call with the
   * standard "still running" answer naming `operation` (its id and the tool call to poll it with).
   */
  poll<T>(check: () => Promise<PollStep<T>>, options: PollOptions): Promise<T>;
  /** Sends `notifications/progress` when the caller asked for progress; a no-op otherwise. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /**
   * Add a secret found while running (a Secret value inside a manifest argument): it is scrubbed from
   * this call's answer, error and audit record (its arguments included) and from everything after.
   */
  secret(value: string | undefined): void;
  /**
   * Show `value` to this call's caller as it is, unredacted: returns a marker to put in the result's
   * `data` (as a whole string value) or `text` (anywhere). Core redacts the answer around the markers,
   * then puts the values in; the audit record, logs and errors never get them (a marker in
   * `ToolResult.audit` stays a marker), and values of 8 characters or more are scrubbed from every
   * other output from then on. Only for what the operator opted in to per instance (a plugin's config
   * says which), in the result of a read or of an approved write (not in previews).
   */
  reveal(value: string): string;
  /** Logs to stderr and to the client (MCP logging). Never stdout. */
  log: Logger;
  /** Output byte budget for this call (per-call `maxBytes` argument or the configured default). */
  budget: number;
  /** Caller identity (HTTP bearer token name), when known. */
  caller?: string;
  /**
   * Ask the user for structured input (MCP `elicitation/create`, form mode) as part of this call.
   * `requestedSchema` is a flat object schema of primitive properties (string, number, integer,
   * boolean, enums). Resolves with the user's action; accepted content is checked against the schema.
   * Present when the client declared `elicitation` (or, over stateless HTTP, where the client's
   * capabilities are not known to the request, always: a client without it makes the call fail with
   * `client_unsupported`). The time the user takes counts against the tool's timeout.
   */
  elicit?: (message: string, requestedSchema: object) => Promise<ElicitResult>;
  /**
   * Ask the client's model for a completion (MCP `sampling/createMessage`) as part of this call.
   * Present under the same rules as `elicit`, for the `sampling` capability.
   */
  sample?: (params: SampleParams) => Promise<SampleResult>;
}

/**
 * The `ctx` a tool's `run`/`plan` get: `client` typed `C`, and `config` typed `K` when the tool
 * knows its plugin's config type (K is `unknown` otherwise, and `config` optional).
 */
export type ToolCtx<C, K> = unknown extends K ? ToolContext<C, K> : ToolContext<C, K> & { config: K };

export interface ToolDefinition<
  I extends z.ZodObject = z.ZodObject,
  O extends z.ZodType = z.ZodType,
  C = any,
  P extends z.ZodType = z.ZodType,
  K = unknown,
> {
  /** Short name; registered as `<plugin>_<name>`. [a-z0-9_]. */
  name: string;
  title?: string;
  /** What it does and when to use it. Terse: it is paid for on every session. */
  description: string;
  input: I;
  output: O;
  effect: Effect;
  /** The plugin toolset this tool belongs to (a key of the plugin's `toolsets`), when it has toolsets. */
  toolset?: string;
  /** Idempotent writes (apply the same state twice = same result). Defaults: read true, write false. */
  idempotent?: boolean;
  /**
   * Only for instances whose config passes (e.g. AMP tools need SigV4). Listed when at least one
   * configured instance passes; refused with `not_configured` on the others.
   */
  availableFor?: (config: any) => boolean;
  /** Per-tool timeout in ms (default from server options). */
  timeoutMs?: number;
  /**
   * Arguments that change how the answer is shown, not what is done; left out of the change hash (so
   * raising `maxBytes` to read a long preview keeps its token). Always: maxBytes, cursor, format.
   */
  presentation?: readonly string[];
  /**
   * Arguments that carry content (a file's text, a document): the audit log keeps their SHA-256 and
   * size instead of the value, so a credential inside never lands in the log while the hash still
   * proves what was written.
   */
  contentArgs?: readonly string[];
  /**
   * Whether a client may run a call of this tool as an MCP task (`tools/call` with `task`; listed as
   * `execution.taskSupport`). Default: `optional` for write and destructive tools (long operations),
   * `forbidden` for reads; a slow read may opt in. Clients without tasks are served as always.
   */
  taskSupport?: 'optional' | 'forbidden';
  /**
   * Write/destructive tools: compute the exact change without making it (server-side dry run,
   * plan file, exact request). Required for effect !== 'read'.
   */
  plan?: (args: z.infer<I>, ctx: ToolCtx<C, K>) => Promise<Plan<z.infer<P>>>;
  /**
   * Write tools with a plan `handle`: check that the world has not moved since the plan (resourceVersion,
   * plan-file hash, VM state) before the approved plan runs. Throw a ToolError (`stale_plan`) when it has.
   * Without a held handle (after a restart, on another replica), core re-plans and compares hashes instead.
   */
  verify?: (args: z.infer<I>, ctx: ToolCtx<C, K>, plan: Plan<z.infer<P>>) => Promise<void>;
  /** Release a plan's handle (delete the plan file): called when its approval is used or expires. */
  discard?: (handle: any) => Promise<void> | void;
  /** Schema of the plan preview (write tools). */
  preview?: P;
  /** Read tools: do it. Write tools: execute the approved plan (passed as third argument). */
  run: (args: z.infer<I>, ctx: ToolCtx<C, K>, plan?: Plan<z.infer<P>>) => Promise<ToolResult<z.infer<O>>>;
}

export interface ResourceDefinition<C = any> {
  /** Short name, unique within the plugin. */
  name: string;
  /** Fixed URI (`uri`) or RFC 6570 template (`template`, e.g. `prometheus://{instance}/targets`). */
  uri?: string;
  template?: string;
  title?: string;
  description?: string;
  mimeType?: string;
  read: (
    uri: URL,
    vars: Record<string, string>,
    ctx: ToolContext<C>,
  ) => Promise<{ text?: string; blob?: string; mimeType?: string }[]>;
  /** Completers for template variables (`completion/complete` with a `ref/resource` to `template`), by variable name. */
  complete?: Record<string, Completer<C>>;
}

export interface PromptDefinition<C = any> {
  name: string;
  title?: string;
  description: string;
  /** Arguments: a flat object of strings. */
  args?: z.ZodObject;
  render: (
    args: Record<string, string>,
  ) => (
    | { role: 'user' | 'assistant'; text: string }
    | { role: 'user' | 'assistant'; content: Record<string, unknown> }
  )[];
  /** Completers for arguments (`completion/complete` with a `ref/prompt`), by argument name. */
  complete?: Record<string, Completer<C>>;
}

export interface HealthReport {
  ok: boolean;
  /** One line: what is wrong and how to fix it, or what was reached. */
  message: string;
  details?: Record<string, unknown>;
}

/** What `setup` gets besides the instance's options. */
export interface SetupContext {
  instance: string;
  /** Log lines are scrubbed of this plugin's secrets. */
  log: Logger;
  /**
   * Add a secret learned at setup or later (a token read from a file, a kubeconfig credential): it is
   * scrubbed from results, errors, logs and audit from then on. Values under 4 characters are ignored.
   */
  secret(value: string | undefined): void;
  /**
   * Redact text the way core redacts results (known secrets, then credential patterns). Use it before
   * cutting backend text to a snippet: a cut secret can no longer be recognised.
   */
  redact(text: string): string;
  /**
   * This instance's backend: route requests through `backend.request` for a span per request, the
   * circuit breaker and retries of idempotent reads; `backend.cached` for discovery reads.
   */
  backend: Backend;
}

export interface PluginDefinition<S extends z.ZodObject = z.ZodObject, C = any> {
  /** Tool prefix. [a-z0-9-]. */
  id: string;
  title: string;
  description: string;
  version: string;
  /** Options of one instance. Mark secrets with `secret()` so they are redacted everywhere. */
  config: S;
  /** Environment variable -> option path (dotted) of the default instance. */
  env?: Record<string, string>;
  /** Several named backends (prod, staging): tools get an `instance` argument. */
  instances?: boolean;
  /**
   * Instances discovered at start (kubeconfig contexts -> instances, each with its own policy).
   * Called synchronously once per configured instance while the server resolves its config, before
   * tools are listed: return the instances found there (they replace it) or `undefined` to keep it.
   * Read local files only (a kubeconfig); a network lookup belongs in `setup`. Needs `instances: true`.
   */
  instancesFrom?: (
    config: z.infer<S>,
    ctx: InstancesFromContext,
  ) => DiscoveredInstance<z.input<S>>[] | undefined;
  /** Create the client for one instance. Lazy: first use only; cached; disposed on shutdown. */
  setup: (config: z.infer<S>, ctx: SetupContext) => Promise<C>;
  dispose?: (client: C) => Promise<void> | void;
  health?: (client: C, config: z.infer<S>) => Promise<HealthReport>;
  /** Tools: `ctx.client` is what `setup` returns, `ctx.config` the parsed `config` (see {@link toolkit}). */
  tools: (ToolDefinition<any, any, C, any, z.infer<S>> | ToolDefinition<any, any, C, any, unknown>)[];
  /**
   * Groups of tools, by name: what each is for, and whether it is listed by default. Config
   * (`plugins.<id>.toolsets`) and `--toolsets` choose others; every tool names its `toolset`.
   */
  toolsets?: Record<string, { description: string; default?: boolean }>;
  resources?: ResourceDefinition<C>[];
  prompts?: PromptDefinition<C>[];
  /**
   * Secrets this plugin knows about beyond its `secret()` options, redacted on every path core
   * scrubs (results, previews, errors, log messages, audit records, completions):
   * - `values(config)`: literal values derived from an instance's config (computed at start);
   *   values learned at setup (a token read from a file) go through `ctx.secret(value)` instead.
   * - `paths`: where secrets sit in the plugin's values, matched at any depth: `data.*` (every
   *   value of a Secret's `data`), `env[name=/PASSWORD|TOKEN/i].value` (the value of an env entry
   *   whose name matches). Values found there are also scrubbed from text from then on.
   */
  redact?: {
    values?: (config: z.infer<S>) => Iterable<string | undefined>;
    paths?: string[];
  };
  /** Whether this plugin has anything to serve with this config (e.g. no URL configured -> false). */
  isConfigured?: (config: z.infer<S>) => boolean;
}

export interface Plugin<S extends z.ZodObject = z.ZodObject, C = any> extends PluginDefinition<S, C> {
  readonly kind: 'infra-mcp-plugin';
  /** Options given to the factory in code (lowest precedence above schema defaults). */
  readonly options?: unknown;
}

const ID_RE = /^[a-z0-9-]+$/;
const TOOL_RE = /^[a-z0-9_]+$/;

export function defineTool<
  I extends z.ZodObject,
  O extends z.ZodType,
  C = any,
  P extends z.ZodType = z.ZodType,
  K = unknown,
>(tool: ToolDefinition<I, O, C, P, K>): ToolDefinition<I, O, C, P, K> {
  if (!TOOL_RE.test(tool.name)) throw new Error(`tool name "${tool.name}" must match [a-z0-9_]+`);
  if (tool.effect !== 'read' && !tool.plan) {
    throw new Error(
      `tool "${tool.name}" has effect "${tool.effect}" but no plan(): every write is dry-run first`,
    );
  }
  return tool;
}

/**
 * Tools of one plugin, typed once: `ctx.client` is `C` (what the plugin's `setup` returns) and
 * `ctx.config` is `K` (the parsed config), with no annotation in the tools.
 *
 *   export const tool = toolkit<PrometheusClient, PrometheusConfig>();
 *   export const queryTool = tool({ name: 'query', ..., run: async (args, ctx) => ... });
 *
 * `definePlugin` checks that the tools' `C` and `K` are its `setup` return type and config type.
 */
export function toolkit<C, K>() {
  return <I extends z.ZodObject, O extends z.ZodType, P extends z.ZodType = z.ZodType>(
    tool: ToolDefinition<I, O, C, P, K>,
  ): ToolDefinition<I, O, C, P, K> => defineTool(tool);
}

/** Declare a resource (fixed `uri` or RFC 6570 `template`); typed helper, no runtime work. */
export function defineResource<C = any>(resource: ResourceDefinition<C>): ResourceDefinition<C> {
  if (!resource.uri === !resource.template)
    throw new Error(`resource "${resource.name}" needs exactly one of uri or template`);
  return resource;
}

/** Declare a prompt; typed helper. */
export function definePrompt<C = any>(prompt: PromptDefinition<C>): PromptDefinition<C> {
  return prompt;
}

/**
 * Declare a plugin. Returns a factory: `myPlugin(options?)` -> Plugin. Options given in code are
 * merged under env and config-file values.
 */
export function definePlugin<S extends z.ZodObject, C>(
  def: PluginDefinition<S, C>,
): (options?: Partial<z.input<S>> | { instances: Record<string, Partial<z.input<S>>> }) => Plugin<S, C> {
  if (!ID_RE.test(def.id)) throw new Error(`plugin id "${def.id}" must match [a-z0-9-]+`);
  if (def.instancesFrom && !def.instances)
    throw new Error(
      `plugin "${def.id}" has instancesFrom but not instances: true (tools need an instance argument)`,
    );
  const factory = (options?: unknown): Plugin<S, C> => ({ ...def, kind: 'infra-mcp-plugin', options });
  return Object.assign(factory, { pluginId: def.id });
}

/** A factory made by definePlugin (carries `pluginId`). */
export function isPluginFactory(
  value: unknown,
): value is ((options?: unknown) => Plugin) & { pluginId: string } {
  return typeof value === 'function' && typeof (value as { pluginId?: unknown }).pluginId === 'string';
}

export function isPlugin(value: unknown): value is Plugin {
  return typeof value === 'object' && value !== null && (value as Plugin).kind === 'infra-mcp-plugin';
}
