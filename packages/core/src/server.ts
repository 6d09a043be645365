import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  type CallToolResult,
  CompleteRequestSchema,
  type CompleteResult,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { z } from 'zod';
import { type ApprovalOptions, Approvals, changeHash } from './approval.js';
import { AuditLog, type AuditSink, JsonlAuditSink, type Outcome } from './audit.js';
import { ErrorCodes, isToolError, ToolError } from './errors.js';
import { sha256 } from './hash.js';
import { type Logger, type LogLevel, levelRank, stderrLogger } from './log.js';
import { Metrics } from './metrics.js';
import { byteLength, DEFAULT_BUDGET, renderData, truncateText } from './output.js';
import type {
  Completer,
  ElicitResult,
  HealthReport,
  Plugin,
  SampleParams,
  SampleResult,
  ToolContext,
  ToolResult,
} from './plugin.js';
import { decide, type Policy } from './policy.js';
import { redact } from './redact.js';
import { buildRegistry, type RegisteredTool, type Registry } from './registry.js';
import { PluginRuntime } from './runtime.js';

export interface CreateServerOptions {
  name?: string;
  version?: string;
  /** Plugins to serve (factories already called: `prometheus()`). */
  plugins: Plugin[];
  /** Per-plugin config sections (`plugins.<id>` of the config file). */
  pluginConfig?: Record<string, unknown>;
  /** Name of the config file, for error messages. */
  configFile?: string;
  env?: Record<string, string | undefined>;
  policy?: Policy;
  /** Audit sinks (default: JSONL file under the user's state dir). */
  audit?: AuditSink[];
  approvals?: ApprovalOptions;
  /** Default output budget in bytes (per-call `maxBytes` overrides where a tool accepts it). */
  maxBytes?: number;
  /** Default per-tool timeout in ms. */
  timeoutMs?: number;
  logger?: Logger;
  instructions?: string;
}

/** Who is calling (HTTP bearer token name) and the SDK's per-request handles. */
export interface CallContext {
  caller?: string;
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
}

/** How long a server->client request may wait (the tool's own timeout) and what cancels it. */
export interface ClientRequestOptions {
  signal: AbortSignal;
  timeoutMs: number;
}

/** How a transport relates to the client's `initialize`. */
export interface ConnectOptions {
  /**
   * Stateless HTTP: every request is served by a fresh protocol server that never saw the client's
   * `initialize`, so the client's capabilities are unknown. `ctx.elicit`/`ctx.sample` are then offered
   * anyway (a client without the capability answers "method not found": `client_unsupported`);
   * elicitation for write approvals is used only where the client declared it.
   */
  stateless?: boolean;
}

export class InfraMcpServer {
  readonly registry: Registry;
  readonly metrics = new Metrics();
  readonly audit: AuditLog;
  readonly log: Logger;
  private readonly approvals: Approvals;
  private readonly policy: Policy;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly approvalMode: 'token' | 'elicit';
  private readonly sdkServers = new Set<Server>();
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(readonly options: CreateServerOptions) {
    this.log = options.logger ?? stderrLogger();
    this.policy = options.policy ?? {};
    this.maxBytes = options.maxBytes ?? DEFAULT_BUDGET;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.approvals = new Approvals(options.approvals);
    this.approvalMode = options.approvals?.mode ?? 'token';
    this.audit = new AuditLog(options.audit ?? [new JsonlAuditSink()]);
    const runtimes: PluginRuntime[] = [];
    for (const plugin of options.plugins) {
      const runtime = PluginRuntime.resolve(
        plugin,
        { file: options.pluginConfig?.[plugin.id], fileName: options.configFile, env: options.env },
        this.log,
      );
      if (runtime.config.enabled) runtimes.push(runtime);
    }
    const policy: Policy = { ...this.policy, plugins: { ...this.policy.plugins } };
    for (const r of runtimes) {
      const p = r.config.policy;
      if (Object.keys(p).length) policy.plugins![r.plugin.id] = { ...p, ...policy.plugins![r.plugin.id] };
    }
    this.policy = policy;
    this.registry = buildRegistry(runtimes, policy);
  }

  /** A protocol server bound to this registry. One per transport (stateless HTTP: one per request). */
  mcpServer(options: ConnectOptions = {}): Server {
    const server = new Server(
      { name: this.options.name ?? 'infra-mcp', version: this.options.version ?? '0.0.0' },
      {
        capabilities: {
          tools: { listChanged: false },
          resources: {},
          prompts: {},
          logging: {},
          ...(this.registry.completions ? { completions: {} } : {}),
        },
        instructions: this.options.instructions,
      },
    );
    let level: LogLevel = 'info';
    server.setRequestHandler(SetLevelRequestSchema, async (req) => {
      level = req.params.level as LogLevel;
      return {};
    });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: this.registry.toolList as any }));
    server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
      const declared = server.getClientCapabilities();
      // known from this connection's initialize; over stateless HTTP that went to another request
      const known = declared !== undefined || !options.stateless;
      // server->client requests go out as part of this request (the SDK relates them to its id)
      const elicitInput = async (
        message: string,
        requestedSchema: object,
        { signal, timeoutMs }: ClientRequestOptions,
      ): Promise<ElicitResult> => {
        const answer = await clientRequest('elicitation', 'elicitation/create', () =>
          extra.sendRequest(
            { method: 'elicitation/create', params: { message, requestedSchema } } as never,
            ElicitResultSchema,
            { signal, timeout: timeoutMs },
          ),
        );
        if (answer.action === 'accept' && answer.content) {
          const check = new AjvJsonSchemaValidator().getValidator(requestedSchema as never)(answer.content);
          if (!check.valid)
            throw new ToolError(
              ErrorCodes.invalidClientAnswer,
              `the client's elicitation answer does not match the requested schema: ${check.errorMessage}`,
              'ask again; the client should validate the form against the schema',
            );
        }
        return {
          action: answer.action,
          ...(answer.content ? { content: answer.content as Record<string, unknown> } : {}),
        };
      };
      const createMessage = async (
        params: SampleParams,
        { signal, timeoutMs }: ClientRequestOptions,
      ): Promise<SampleResult> => {
        const answer = await clientRequest('sampling', 'sampling/createMessage', () =>
          extra.sendRequest({ method: 'sampling/createMessage', params }, CreateMessageResultSchema, {
            signal,
            timeout: timeoutMs,
          }),
        );
        const { role, content, model, stopReason } = answer;
        const result: SampleResult = { role, content, model, ...(stopReason ? { stopReason } : {}) };
        return result;
      };
      return this.callTool(req.params.name, req.params.arguments ?? {}, {
        caller: (extra.authInfo?.clientId as string | undefined) ?? undefined,
        signal: extra.signal,
        progressToken: req.params._meta?.progressToken,
        sendNotification: (n) => extra.sendNotification(n as any),
        logLevel: level,
        // approvals by elicitation only where the client said it can: otherwise the token flow
        elicit: declared?.elicitation?.form
          ? async (message) => {
              const answer = await elicitInput(message, APPROVE_SCHEMA, {
                signal: extra.signal,
                timeoutMs: APPROVAL_PROMPT_TIMEOUT_MS,
              });
              return answer.action === 'accept' && answer.content?.approve === true;
            }
          : undefined,
        elicitInput: (known ? declared?.elicitation?.form : true) ? elicitInput : undefined,
        createMessage: (known ? declared?.sampling : true) ? createMessage : undefined,
      }) as Promise<any>;
    });
    server.setRequestHandler(ListResourcesRequestSchema, async () => ({
      resources: this.registry.resources
        .filter((r) => r.uri)
        .map((r) => ({
          uri: r.uri!,
          name: r.def.name,
          title: r.def.title,
          description: r.def.description,
          mimeType: r.def.mimeType,
        })),
    }));
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
      resourceTemplates: this.registry.resources
        .filter((r) => r.template)
        .map((r) => ({
          uriTemplate: r.def.template!,
          name: r.def.name,
          title: r.def.title,
          description: r.def.description,
          mimeType: r.def.mimeType,
        })),
    }));
    server.setRequestHandler(ReadResourceRequestSchema, async (req, extra) =>
      this.readResource(req.params.uri, extra.signal),
    );
    server.setRequestHandler(ListPromptsRequestSchema, async () => ({
      prompts: [...this.registry.prompts.values()].map((p) => ({
        name: p.name,
        title: p.def.title,
        description: p.def.description,
        arguments: p.def.args
          ? Object.entries(p.def.args.shape).map(([name, s]) => ({
              name,
              description: (s as z.ZodType).description,
              required: !(s as z.ZodType).safeParse(undefined).success,
            }))
          : [],
      })),
    }));
    server.setRequestHandler(GetPromptRequestSchema, async (req) => {
      const prompt = this.registry.prompts.get(req.params.name);
      if (!prompt) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${req.params.name}`);
      const args = prompt.def.args
        ? prompt.def.args.safeParse(req.params.arguments ?? {})
        : { success: true as const, data: {} };
      if (!args.success)
        throw new McpError(
          ErrorCode.InvalidParams,
          `Invalid arguments for prompt ${req.params.name}: ${z.prettifyError(args.error)}`,
        );
      return {
        description: prompt.def.description,
        messages: prompt.def.render(args.data as Record<string, string>).map((m) => ({
          role: m.role,
          content: 'content' in m ? m.content : { type: 'text', text: m.text },
        })) as any,
      };
    });
    if (this.registry.completions) {
      server.setRequestHandler(CompleteRequestSchema, async (req) =>
        this.complete(req.params.ref, req.params.argument, req.params.context?.arguments),
      );
    }
    this.sdkServers.add(server);
    server.onclose = () => this.sdkServers.delete(server);
    return server;
  }

  /** Connect a transport (stdio, in-memory, one HTTP request). */
  async connect(transport: Transport, options: ConnectOptions = {}): Promise<Server> {
    const server = this.mcpServer(options);
    await server.connect(transport);
    return server;
  }

  /**
   * `completion/complete`: the completer of a prompt argument or a resource-template variable.
   * Unknown prompt, resource or argument -> InvalidParams; no completer -> no values.
   */
  private async complete(
    ref: { type: string; name?: string; uri?: string },
    argument: { name: string; value: string },
    args: Record<string, string> | undefined,
  ): Promise<CompleteResult> {
    let completers: Record<string, Completer> | undefined;
    let known: string[];
    let runtime: PluginRuntime;
    let what: string;
    if (ref.type === 'ref/prompt') {
      const prompt = this.registry.prompts.get(ref.name ?? '');
      if (!prompt) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${ref.name}`);
      ({ runtime } = prompt);
      completers = prompt.def.complete;
      known = Object.keys(prompt.def.args?.shape ?? {});
      what = `prompt ${prompt.name}`;
    } else {
      const resource = this.registry.resources.find((r) => r.def.template === ref.uri || r.uri === ref.uri);
      if (!resource)
        throw new McpError(
          ErrorCode.InvalidParams,
          `Unknown resource or resource template: ${ref.uri}. resources/templates/list shows the templates`,
        );
      ({ runtime } = resource);
      completers = resource.def.complete;
      known = resource.templateVars;
      what = `resource ${ref.uri}`;
    }
    if (!known.includes(argument.name))
      throw new McpError(
        ErrorCode.InvalidParams,
        `${what} has no argument "${argument.name}"${known.length ? ` (it has ${known.join(', ')})` : ''}`,
      );
    const completer = completers?.[argument.name];
    if (!completer) return { completion: { values: [], total: 0, hasMore: false } };
    let values: unknown;
    try {
      values = await completer(argument.value, args ? { arguments: args } : {});
    } catch (err) {
      throw new McpError(
        ErrorCode.InternalError,
        `completing ${argument.name} of ${what} failed: ${runtime.scrub((err as Error)?.message ?? String(err))}`,
      );
    }
    const all = (Array.isArray(values) ? values : [])
      .filter((v): v is string => typeof v === 'string')
      .map((v) => runtime.scrub(v));
    return {
      completion: {
        values: all.slice(0, MAX_COMPLETIONS),
        total: all.length,
        hasMore: all.length > MAX_COMPLETIONS,
      },
    };
  }

  private async readResource(uri: string, signal: AbortSignal) {
    for (const r of this.registry.resources) {
      let vars: Record<string, string> | undefined;
      if (r.uri === uri) vars = {};
      else if (r.template) {
        const m = r.template.exec(uri);
        if (m) vars = Object.fromEntries(r.templateVars.map((v, i) => [v, decodeURIComponent(m[i + 1]!)]));
      }
      if (!vars) continue;
      const instance = r.runtime.instanceName(vars.instance);
      const client = await r.runtime.client(instance);
      // resources answer a read: no elicitation or sampling (the call context carries neither)
      const ctx = this.context(r.runtime, instance, client, { signal }, this.maxBytes);
      const contents = await r.def.read(new URL(uri), vars, ctx);
      return {
        contents: contents.map((c) => ({
          uri,
          mimeType: c.mimeType ?? r.def.mimeType,
          ...(c.blob !== undefined
            ? { blob: c.blob }
            : { text: redact(c.text ?? '', r.runtime.config.secrets) }),
        })),
      };
    }
    throw new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri}`);
  }

  private context(
    runtime: PluginRuntime,
    instance: string,
    client: unknown,
    call: CallContext,
    budget: number,
    timeoutMs = this.timeoutMs,
  ): ToolContext {
    const pluginId = runtime.plugin.id;
    const notify = call.sendNotification;
    const minLevel = levelRank(call.logLevel);
    const send = (level: LogLevel, rawMessage: string, rawData?: unknown) => {
      // tool logs reach stderr and the client: scrubbed like results
      const message = runtime.scrub(rawMessage);
      const data = rawData === undefined ? undefined : redact(rawData, runtime.config.secrets);
      const line = `${pluginId}/${instance}: ${message}`;
      if (level === 'info' || level === 'notice') this.log.info(line);
      else if (level === 'warning') this.log.warn(line);
      else if (level !== 'debug') this.log.error(line);
      if (notify && levelRank(level) >= minLevel) {
        notify({
          method: 'notifications/message',
          params: { level, logger: pluginId, data: data === undefined ? message : { message, data } },
        }).catch(() => {});
      }
    };
    const signal = call.signal ?? new AbortController().signal;
    const { elicitInput, createMessage } = call;
    return {
      client,
      instance,
      signal,
      budget,
      caller: call.caller,
      // what goes to the client is scrubbed like results: the message, and text the model is shown
      ...(elicitInput
        ? {
            elicit: (message: string, requestedSchema: object) =>
              elicitInput(runtime.scrub(message), requestedSchema, { signal, timeoutMs }),
          }
        : {}),
      ...(createMessage
        ? {
            sample: (params: SampleParams) =>
              createMessage(
                {
                  ...params,
                  ...(params.systemPrompt !== undefined
                    ? { systemPrompt: runtime.scrub(params.systemPrompt) }
                    : {}),
                  messages: params.messages.map((m) =>
                    m.content.type === 'text'
                      ? { ...m, content: { ...m.content, text: runtime.scrub(m.content.text) } }
                      : m,
                  ),
                },
                { signal, timeoutMs },
              ),
          }
        : {}),
      log: {
        debug: (m, d) => send('debug', m, d),
        info: (m, d) => send('info', m, d),
        warn: (m, d) => send('warning', m, d),
        error: (m, d) => send('error', m, d),
      },
      progress: async (progress, total, message) => {
        if (call.progressToken === undefined || !notify) return;
        await notify({
          method: 'notifications/progress',
          params: {
            progressToken: call.progressToken,
            progress,
            ...(total !== undefined ? { total } : {}),
            ...(message ? { message } : {}),
          },
        });
      },
    };
  }

  /**
   * The tools/call pipeline: lookup, validation, policy, lazy client, dry run / approval, timeout,
   * output budget, redaction, audit and metrics. Unknown tools throw a JSON-RPC error; everything
   * else comes back as a result (isError with a stable code and a hint on failure).
   */
  async callTool(
    name: string,
    rawArgs: Record<string, unknown>,
    call: CallContext = {},
  ): Promise<CallToolResult> {
    this.inflight++;
    try {
      return await this.dispatch(name, rawArgs, call);
    } finally {
      if (--this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves when no tools/call is running. */
  idle(): Promise<void> {
    return this.inflight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async dispatch(
    name: string,
    rawArgs: Record<string, unknown>,
    call: CallContext,
  ): Promise<CallToolResult> {
    const started = Date.now();
    const tool = this.registry.tools.get(name) ?? this.registry.hidden.get(name);
    let instance: string | undefined;
    let dryRun = false;
    const finish = async (
      result: CallToolResult,
      outcome: Outcome,
      errorCode?: string,
    ): Promise<CallToolResult> => {
      const bytes = byteLength(JSON.stringify(result));
      this.metrics.observe(tool ? name : '(unknown)', outcome, (Date.now() - started) / 1000);
      try {
        await this.audit.record({
          start: new Date(started).toISOString(),
          end: new Date().toISOString(),
          caller: call.caller,
          tool: name,
          instance,
          args: auditArgs(rawArgs, tool?.runtime.config.secrets),
          effect: tool?.effect,
          dryRun,
          outcome,
          errorCode,
          resultBytes: bytes,
        });
      } catch (err) {
        this.log.error((err as Error).message);
        if (tool && tool.effect !== 'read' && outcome === 'ok') {
          return errorResult(
            new ToolError(
              ErrorCodes.auditFailed,
              `the change ran but its audit record could not be written: ${(err as Error).message}`,
              'fix the audit sink (infra-mcp doctor) before making further changes',
            ),
          );
        }
      }
      return result;
    };

    if (!tool) {
      await finish({ content: [] }, 'denied', 'unknown_tool');
      throw new McpError(
        ErrorCode.InvalidParams,
        `Unknown tool: ${name}. tools/list shows the tools this server offers.`,
      );
    }
    const plugin = tool.runtime.plugin;
    try {
      const parsed = tool.args.safeParse(rawArgs);
      if (!parsed.success) {
        throw new ToolError(
          ErrorCodes.invalidArguments,
          `invalid arguments for ${name}: ${describeIssues(parsed.error)}`,
          'fix the listed arguments; the tool input schema in tools/list gives each type',
        );
      }
      const args = parsed.data as Record<string, unknown>;
      instance = tool.runtime.instanceName(args.instance as string | undefined);
      if (tool.def.availableFor && !tool.def.availableFor(tool.runtime.config.instances[instance])) {
        throw new ToolError(
          ErrorCodes.notConfigured,
          `${name} is not available on ${plugin.id} instance "${instance}" with its configuration`,
          `use an instance it is configured for, or configure ${plugin.id}/${instance} (infra-mcp config shows it)`,
        );
      }
      const decision = decide(this.policy, name, tool.effect, plugin.id, instance);
      if (!decision.allowed) {
        return await finish(
          errorResult(
            new ToolError(
              ErrorCodes.denied,
              decision.reason!,
              'this server does not allow it; ask the operator to change the policy, or use a read tool',
            ),
          ),
          'denied',
          ErrorCodes.denied,
        );
      }
      const budget = typeof args.maxBytes === 'number' ? args.maxBytes : this.maxBytes;
      const timeoutMs = tool.def.timeoutMs ?? this.timeoutMs;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
      const client = await tool.runtime.client(instance);
      const ctx = this.context(tool.runtime, instance, client, { ...call, signal }, budget, timeoutMs);
      // the resolved instance is part of the change: omitting it or naming the default is the same change
      const { approval, ...rest } = args;
      const planArgs = { ...rest, ...(tool.runtime.instanceNames.length > 1 ? { instance } : {}) };
      if (tool.effect === 'read') {
        // reads stop at the timeout or cancellation even if the tool ignores its signal
        const out = await raceAbort(tool.def.run(args, ctx), signal);
        return await finish(this.shape(tool, out, budget), 'ok');
      }
      const plan = await raceAbort(tool.def.plan!(planArgs, ctx), signal);
      const hash = changeHash(name, instance, planArgs, plan.change);
      const previewText = plan.text ?? renderData(plan.preview);
      if (approval === undefined && !(this.approvalMode === 'elicit' && call.elicit)) {
        const { token, expiresAt } = this.approvals.issue(name, instance, hash, call.caller);
        const text = `dry run: nothing was changed\n${previewText}\nto apply exactly this change, call ${name} again with the same arguments and approval: "${token}" (expires ${expiresAt})`;
        dryRun = true;
        const data = { dryRun: true, approval: token, expiresAt, preview: plan.preview };
        return await finish(this.shape(tool, { data, text }, budget), 'dry_run');
      }
      if (approval === undefined) {
        if (!(await call.elicit!(`${name} on ${plugin.id}/${instance}:\n${previewText}`))) {
          dryRun = true;
          const text = `${previewText}\nnot approved by the user; nothing was changed`;
          return await finish(
            this.shape(tool, { data: { dryRun: true, preview: plan.preview }, text }, budget),
            'dry_run',
          );
        }
      } else {
        this.approvals.check(String(approval), name, instance, hash, call.caller);
      }
      await this.audit.check().catch((err) => {
        throw new ToolError(
          ErrorCodes.auditFailed,
          `audit log is not writable (${(err as Error).message}); the change was not executed`,
          'fix the audit sink, then approve again',
        );
      });
      // an approved change is not abandoned half-way at the timeout: the tool gets the signal and we
      // wait for its answer, so what is reported (and audited) is what happened
      const out = await tool.def.run(args, ctx, plan);
      const result = this.shape(
        tool,
        { data: { dryRun: false, result: out.data }, text: out.text ?? renderData(out.data) },
        budget,
      );
      return await finish(result, 'ok');
    } catch (err) {
      const e = toToolError(
        err,
        call.signal,
        tool.def.timeoutMs ?? this.timeoutMs,
        tool.runtime.scrub.bind(tool.runtime),
      );
      return await finish(errorResult(e), 'error', e.code);
    }
  }

  private shape(tool: RegisteredTool, out: ToolResult, budget: number): CallToolResult {
    const secrets = tool.runtime.config.secrets;
    const data = redact(out.data, secrets);
    const bytes = byteLength(JSON.stringify(data));
    if (bytes > budget) {
      // tools fit their answers to ctx.budget; this is the backstop, never a flood into the context
      throw new ToolError(
        ErrorCodes.overBudget,
        `the answer is ${bytes} bytes, over the ${budget}-byte budget`,
        'narrow the request, or pass a larger maxBytes where the tool accepts it',
      );
    }
    const fitted = truncateText(redact(out.text ?? renderData(data), secrets), budget);
    const result: CallToolResult = {
      content: [{ type: 'text', text: fitted.text }, ...((out.content ?? []) as CallToolResult['content'])],
      structuredContent: data as Record<string, unknown>,
    };
    return result;
  }

  /** Health of every enabled plugin instance (doctor, /readyz). */
  async health(): Promise<{ plugin: string; instance: string; report: HealthReport }[]> {
    const checks = this.registry.runtimes.flatMap((r) =>
      r.instanceNames.map(async (instance) => ({
        plugin: r.plugin.id,
        instance,
        report: await r.health(instance),
      })),
    );
    return Promise.all(checks);
  }

  async close(): Promise<void> {
    for (const s of [...this.sdkServers]) await s.close().catch(() => {});
    for (const r of this.registry.runtimes) await r.close();
    await this.audit.close();
  }
}

/** At most this many values per `completion/complete` answer (the spec's limit). */
export const MAX_COMPLETIONS = 100;

/** How long an approval prompt waits for the human (the SDK's default request timeout). */
const APPROVAL_PROMPT_TIMEOUT_MS = 60_000;

const APPROVE_SCHEMA = {
  type: 'object',
  properties: { approve: { type: 'boolean', title: 'Apply this change?' } },
  required: ['approve'],
};

/** A server->client request; a client without the capability answers "method not found". */
async function clientRequest<T>(what: string, method: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof McpError && err.code === ErrorCode.MethodNotFound)
      throw new ToolError(
        ErrorCodes.clientUnsupported,
        `the client does not support ${what} (it answered ${method} with: ${err.message})`,
        `this tool needs a client with ${what} support`,
      );
    throw err;
  }
}

export function createServer(options: CreateServerOptions): InfraMcpServer {
  return new InfraMcpServer(options);
}

const MAX_AUDIT_ARGS = 8192;

/**
 * Arguments as stored in the audit log: redacted; an approval token only as its hash (a token in
 * a readable log could be replayed); very large arguments as a hash, a size and a prefix.
 */
function auditArgs(args: Record<string, unknown>, secrets: readonly string[] = []): unknown {
  const out = redact(args, secrets) as Record<string, unknown>;
  if (typeof out.approval === 'string') out.approval = `sha256:${sha256(out.approval).slice(0, 16)}`;
  const json = JSON.stringify(out);
  if (byteLength(json) <= MAX_AUDIT_ARGS) return out;
  return { sha256: sha256(json), bytes: byteLength(json), prefix: json.slice(0, 1024) };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.join('.') || '(arguments)';
      if (i.code === 'unrecognized_keys')
        return `unknown argument${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
      if (i.code === 'invalid_type' && /received undefined/.test(i.message))
        return `${path}: required (${i.expected})`;
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

function errorResult(err: ToolError): CallToolResult {
  return {
    isError: true,
    content: [
      { type: 'text', text: `error [${err.code}]: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}` },
    ],
    _meta: {
      'infra-mcp/error': { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) },
    },
  };
}

function toToolError(
  err: unknown,
  callSignal: AbortSignal | undefined,
  timeoutMs: number,
  scrub: (s: string) => string,
): ToolError {
  if (isToolError(err))
    return new ToolError(err.code, scrub(err.message), err.hint && scrub(err.hint), err.details);
  const e = err as Error & { name?: string };
  if (callSignal?.aborted)
    return new ToolError(
      ErrorCodes.cancelled,
      'the call was cancelled by the client',
      'call again if the result is still needed',
    );
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new ToolError(
      ErrorCodes.timeout,
      `the backend did not answer within ${timeoutMs} ms`,
      'narrow the request or try again later',
    );
  }
  return new ToolError(
    ErrorCodes.backendError,
    scrub(e?.message ?? String(err)),
    'check the arguments and the backend; infra-mcp doctor tests connectivity',
  );
}

/** Resolve with the work, or reject as soon as the signal aborts (tools that ignore the signal still stop the call). */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
