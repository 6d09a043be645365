import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Tracer } from '@opentelemetry/api';
import { type ApprovalClaim, Approvals, changeHash } from './approval.js';
import { type AuditLog, boundToolName, isPlausibleToolName, type Outcome } from './audit.js';
import type { CallContext } from './call-context.js';
import { describeIssues, errorResult, protocolError, raceAbort, toToolError } from './call-errors.js';
import { StillRunningSignal, toolContext } from './context.js';
import { ErrorCodes, ToolError } from './errors.js';
import { canonicalJson, sha256 } from './hash.js';
import { type HeldPlans, release } from './held-plans.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import { byteLength, renderData } from './output.js';
import { fitAnswer } from './page.js';
import type { Plan, StillRunning, ToolContext, ToolResult } from './plugin.js';
import { decide, type Policy } from './policy.js';
import { dryRunAnswer, readPreviewCursor } from './preview.js';
import { redact } from './redact.js';
import type { RegisteredTool, Registry } from './registry.js';
import { Reveals } from './reveal.js';
import { scopeRefusal } from './scopes.js';
import { endToolSpan, otel, parentFromMeta, runInScope, startToolSpan } from './tracing.js';

/** Arguments that only change how an answer is shown: never part of a change hash. */
export const PRESENTATION_ARGS = ['maxBytes', 'cursor', 'format'] as const;

/** Bounds on calls running at once. */
export interface CallLimits {
  /** Calls running at once in this server (default 64). */
  concurrent?: number;
  /** Calls running at once per identified caller (HTTP token name; default 16). stdio has one caller: only `concurrent` applies. */
  perCaller?: number;
}

export interface PipelineOptions {
  registry: Registry;
  policy: Policy;
  approvals: Approvals;
  approvalMode: 'token' | 'elicit';
  plans: HeldPlans;
  audit: AuditLog;
  metrics: Metrics;
  /** Spans of tool calls (no-op without a registered OpenTelemetry SDK). */
  tracer: () => Promise<Tracer>;
  log: Logger;
  maxBytes: number;
  timeoutMs: number;
  limits?: CallLimits;
  /** Plan every dry run twice and refuse a tool whose two changes differ (tests, plugin development). */
  checkPlans?: boolean;
}

/** Audit fields a call collects as it goes. */
interface Trail {
  instance?: string;
  /** Id of the intent record of an approved change (its outcome record names it). */
  intent?: string;
  dryRun: boolean;
  changeHash?: string;
  summary?: string;
  /** What the tool asked to record of a successful run (`ToolResult.audit`). */
  details?: Record<string, unknown>;
}

const MAX_AUDIT_ARGS = 8192;
const MAX_SUMMARY = 512;

/**
 * The tools/call pipeline: lookup, limits, validation, policy, lazy client, dry run / approval,
 * timeout, output budget, redaction, audit and metrics. Unknown tools throw a JSON-RPC error;
 * everything else comes back as a result (isError with a stable code and a hint on failure).
 */
export class CallPipeline {
  private running = 0;
  private readonly perCaller = new Map<string, number>();

  constructor(private readonly o: PipelineOptions) {}

  async call(name: string, rawArgs: unknown, call: CallContext = {}): Promise<CallToolResult> {
    const started = Date.now();
    // an absurd name (1 MB, odd characters) is unknown without a lookup, and bounded in the record
    const tool = isPlausibleToolName(name)
      ? (this.o.registry.tools.get(name) ?? this.o.registry.hidden.get(name))
      : undefined;
    const trail: Trail = { dryRun: false };
    const o = await otel();
    const parent = parentFromMeta(o, call.meta);
    const span = startToolSpan(
      o,
      await this.o.tracer(),
      tool ? name : boundToolName(name),
      parent,
      call.caller,
    );
    let ended = false;
    const finish = async (result: CallToolResult, outcome: Outcome, error?: ToolError) => {
      const answer = await this.finish(tool, name, rawArgs, call, started, trail, result, outcome, error);
      if (!ended) {
        ended = true;
        endToolSpan(o, span, {
          plugin: tool?.runtime.plugin.id,
          instance: trail.instance,
          outcome,
          isError: answer.isError === true || outcome === 'error' || outcome === 'denied',
          errorCode: error?.code ?? (answer.isError ? ErrorCodes.auditFailed : undefined),
          dryRun: trail.dryRun,
          approved: trail.intent !== undefined,
        });
      }
      return answer;
    };
    if (!tool) {
      await finish({ content: [] }, 'denied', new ToolError('unknown_tool', 'unknown tool'));
      throw protocolError(
        -32602,
        `Unknown tool: ${boundToolName(name)}. tools/list shows the tools this server offers.`,
      );
    }
    // before anything else: a token without the scope cannot even preview (its approval could never run)
    const refusal = scopeRefusal(name, tool.effect, call.access);
    if (refusal) {
      const err = new ToolError(
        ErrorCodes.insufficientScope,
        refusal,
        `authorize again with scope ${call.access!.names[tool.effect]}, or use a tool your token allows`,
      );
      return finish(errorResult(err), 'denied', err);
    }
    const caller = call.caller ?? '';
    const limits = this.o.limits ?? {};
    if (
      this.running >= (limits.concurrent ?? 64) ||
      (call.caller !== undefined && (this.perCaller.get(caller) ?? 0) >= (limits.perCaller ?? 16))
    ) {
      const err = new ToolError(
        ErrorCodes.busy,
        `the server is busy: ${this.running} calls are running${caller ? ` (${this.perCaller.get(caller) ?? 0} of them yours)` : ''}`,
        'retry in a few seconds, or make fewer calls at once',
      );
      return finish(errorResult(err), 'denied', err);
    }
    this.running++;
    this.perCaller.set(caller, (this.perCaller.get(caller) ?? 0) + 1);
    try {
      // backend requests of this call: children of its span, and never retried past its timeout
      const deadline = started + (tool.def.timeoutMs ?? this.o.timeoutMs);
      return await runInScope({ trace: o.trace.setSpan(parent, span), deadline }, () =>
        this.dispatch(tool, rawArgs, call, started, trail, finish),
      );
    } finally {
      this.running--;
      const n = (this.perCaller.get(caller) ?? 1) - 1;
      if (n === 0) this.perCaller.delete(caller);
      else this.perCaller.set(caller, n);
    }
  }

  private async dispatch(
    tool: RegisteredTool,
    rawArgs: unknown,
    call: CallContext,
    started: number,
    trail: Trail,
    finish: (result: CallToolResult, outcome: Outcome, error?: ToolError) => Promise<CallToolResult>,
  ): Promise<CallToolResult> {
    const { name, runtime } = tool;
    const plugin = runtime.plugin;
    const timeoutMs = tool.def.timeoutMs ?? this.o.timeoutMs;
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
      const instance = runtime.instanceName(args.instance as string | undefined);
      trail.instance = instance;
      if (tool.def.availableFor && !tool.def.availableFor(runtime.config.instances[instance])) {
        throw new ToolError(
          ErrorCodes.notConfigured,
          `${name} is not available on ${plugin.id} instance "${instance}" with its configuration`,
          `use an instance it is configured for, or configure ${plugin.id}/${instance} (infra-mcp config shows it)`,
        );
      }
      const decision = decide(this.o.policy, name, tool.effect, plugin.id, instance);
      if (!decision.allowed) {
        const err = new ToolError(
          ErrorCodes.denied,
          decision.reason!,
          'this server does not allow it; ask the operator to change the policy, or use a read tool',
        );
        return await finish(errorResult(err), 'denied', err);
      }
      const budget = typeof args.maxBytes === 'number' ? args.maxBytes : this.o.maxBytes;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
      const client = await raceAbort(runtime.client(instance), signal);
      const reveals = new Reveals();
      const context = (s: AbortSignal, deadline: number) =>
        toolContext({
          runtime,
          instance,
          client,
          call: { ...call, signal: s },
          signal: s,
          budget,
          timeoutMs,
          deadline,
          log: this.o.log,
          reveals,
        });
      if (tool.effect === 'read') {
        // a soft deadline a little before the hard one, so a tool can return what it has (partial)
        const ctx = context(signal, started + timeoutMs - Math.min(1000, timeoutMs / 10));
        // reads stop at the timeout or cancellation even if the tool ignores its signal
        const out = await raceAbort(tool.def.run(args, ctx), signal);
        trail.details = out.audit;
        return await finish(this.shape(tool, out, budget, reveals), 'ok');
      }
      return await this.write(tool, args, instance, budget, call, started, trail, finish, {
        planCtx: context(signal, started + timeoutMs),
        planSignal: signal,
        // an approved change is not abandoned half-way at the timeout: cancel-only signal, and the
        // deadline tells ctx.poll when to answer "still running"
        runCtx: context(call.signal ?? new AbortController().signal, call.runDeadline ?? started + timeoutMs),
        reveals,
      });
    } catch (err) {
      const e = toToolError(
        err,
        call.signal,
        timeoutMs,
        (s) => runtime.scrub(s),
        (v) => redact(v, runtime.config.secrets),
      );
      return await finish(errorResult(e), 'error', e);
    }
  }

  private async write(
    tool: RegisteredTool,
    args: Record<string, unknown>,
    instance: string,
    budget: number,
    call: CallContext,
    started: number,
    trail: Trail,
    finish: (result: CallToolResult, outcome: Outcome, error?: ToolError) => Promise<CallToolResult>,
    env: { planCtx: ToolContext; planSignal: AbortSignal; runCtx: ToolContext; reveals: Reveals },
  ): Promise<CallToolResult> {
    const { name, runtime, def } = tool;
    const presentation = new Set<string>([...PRESENTATION_ARGS, ...(def.presentation ?? [])]);
    const { approval, ...rest } = args;
    // the resolved instance is part of the change: omitting it or naming the default is the same change
    const planArgs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(rest)) if (!presentation.has(k)) planArgs[k] = v;
    if (runtime.instanceNames.length > 1) planArgs.instance = instance;
    const hashOf = (plan: Plan) => changeHash(name, instance, planArgs, plan.change);
    const plan = async (): Promise<Plan> => {
      const p = await raceAbort(def.plan!(planArgs as never, env.planCtx), env.planSignal);
      if (this.o.checkPlans) await this.checkDeterministic(tool, p, planArgs, env);
      return p;
    };

    if (approval === undefined) {
      const cursor = typeof args.cursor === 'string' ? readPreviewCursor(args.cursor) : undefined;
      if (typeof args.cursor === 'string' && !cursor)
        throw new ToolError(
          ErrorCodes.invalidArguments,
          'cursor is not a preview cursor of this tool',
          'pass the cursor exactly as the previous dry run returned it, or leave it out',
        );
      if (cursor) {
        // a further page of a long preview: from the held plan when it is the same change
        const held = this.o.plans.get(cursor.id);
        if (held && held.tool === name && hashOf(held.plan) === held.hash && held.token) {
          trail.dryRun = true;
          trail.changeHash = held.hash;
          trail.summary = held.plan.summary;
          const answer = dryRunAnswer({
            tool: name,
            plan: held.plan,
            previewText: previewText(held.plan),
            token: held.token,
            id: held.id,
            expiresAt: held.expiresAt,
            budget,
            offset: cursor.offset,
          });
          return await finish(this.shapeDryRun(tool, answer, budget), 'dry_run');
        }
      }
      const p = await plan();
      const hash = hashOf(p);
      trail.changeHash = hash;
      trail.summary = p.summary;
      if (!(this.o.approvalMode === 'elicit' && call.elicit)) {
        const claim = this.o.approvals.issue(name, instance, hash, call.caller);
        this.o.plans.hold({
          id: claim.id,
          tool: name,
          hash,
          plan: p,
          token: claim.token,
          expiresAt: claim.expiresAt,
          discard: def.discard,
        });
        trail.dryRun = true;
        const answer = dryRunAnswer({
          tool: name,
          plan: p,
          previewText: previewText(p),
          token: claim.token,
          id: claim.id,
          expiresAt: claim.expiresAt,
          budget,
          offset: cursor?.offset ?? 0,
        });
        return await finish(this.shapeDryRun(tool, answer, budget), 'dry_run');
      }
      const approved = await call.elicit!(
        runtime.scrub(
          `${name} on ${runtime.plugin.id}/${instance}:\n${p.summary ? `${p.summary}\n` : ''}${previewText(p)}`,
        ),
      );
      if (!approved) {
        await release({ tool: name, plan: p, discard: def.discard }, this.o.log);
        trail.dryRun = true;
        const text = `${previewText(p)}\nnot approved by the user; nothing was changed`;
        return await finish(
          this.shape(tool, { data: { dryRun: true, preview: p.preview }, text }, budget),
          'dry_run',
        );
      }
      return await this.execute(tool, args, p, undefined, call, started, trail, finish, env, budget);
    }

    const claim = this.o.approvals.read(String(approval), name, instance, call.caller);
    await this.o.approvals.unused(claim);
    const held = this.o.plans.get(claim.id);
    let p: Plan;
    if (held && held.plan.handle !== undefined) {
      // execute exactly the reviewed plan: same arguments, then the tool's check that the world has not moved
      Approvals.same(claim, hashOf(held.plan));
      p = held.plan;
      if (def.verify) await raceAbort(def.verify(planArgs as never, env.planCtx, p), env.planSignal);
    } else {
      // no handle here (none kept, a restart, another replica): plan again and compare
      p = await plan();
      Approvals.same(claim, hashOf(p));
    }
    trail.changeHash = claim.hash;
    trail.summary = p.summary;
    return await this.execute(tool, args, p, claim, call, started, trail, finish, env, budget);
  }

  /** Intent record, spend the token, run, outcome record; the plan's handle is discarded after. */
  private async execute(
    tool: RegisteredTool,
    args: Record<string, unknown>,
    plan: Plan,
    claim: ApprovalClaim | undefined,
    call: CallContext,
    started: number,
    trail: Trail,
    finish: (result: CallToolResult, outcome: Outcome, error?: ToolError) => Promise<CallToolResult>,
    env: { runCtx: ToolContext; reveals: Reveals },
    budget: number,
  ): Promise<CallToolResult> {
    const { name, def } = tool;
    try {
      const intent = await this.o.audit.record({
        ...this.entry(tool, name, args, call, started, trail),
        end: new Date().toISOString(),
        outcome: 'intent',
        phase: 'intent',
        resultBytes: 0,
      });
      trail.intent = intent.id;
    } catch (err) {
      throw new ToolError(
        ErrorCodes.auditFailed,
        `the audit log is not writable (${(err as Error).message}); the change was not executed and the approval is still valid`,
        'fix the audit sink (infra-mcp doctor), then call again with the same approval',
      );
    }
    const held = claim ? this.o.plans.take(claim.id) : undefined;
    try {
      if (claim) await this.o.approvals.consume(claim);
      let out: ToolResult;
      try {
        out = await def.run(args, env.runCtx, plan);
      } catch (err) {
        if (err instanceof StillRunningSignal)
          return await this.stillRunning(tool, err.state, budget, finish);
        throw err;
      }
      const result = this.shape(
        tool,
        { ...out, data: { dryRun: false, result: out.data }, text: out.text ?? renderData(out.data) },
        budget,
        env.reveals,
      );
      trail.details = out.audit;
      return await finish(result, 'ok');
    } finally {
      await release(held ?? { tool: name, plan, discard: def.discard }, this.o.log);
    }
  }

  private async stillRunning(
    tool: RegisteredTool,
    state: StillRunning,
    budget: number,
    finish: (result: CallToolResult, outcome: Outcome, error?: ToolError) => Promise<CallToolResult>,
  ): Promise<CallToolResult> {
    const text = `still running after ${state.waitedSeconds} s${state.message ? ` (${state.message})` : ''}: operation ${state.id}; poll with ${state.poll.tool} ${JSON.stringify(state.poll.arguments)}`;
    return finish(this.shape(tool, { data: { dryRun: false, operation: state }, text }, budget), 'running');
  }

  /** Tests and plugin development: a plan must give the same change for the same arguments. */
  private async checkDeterministic(
    tool: RegisteredTool,
    first: Plan,
    planArgs: Record<string, unknown>,
    env: { planCtx: ToolContext; planSignal: AbortSignal },
  ): Promise<void> {
    const where = nonJsonPath(first.change, 'change');
    const fail = (what: string) =>
      new ToolError(
        ErrorCodes.planNotDeterministic,
        `${tool.name} (plugin ${tool.runtime.plugin.id}): ${what}; an approval could never match it`,
        `fix the plugin: plan() must return the same JSON change for the same arguments and backend state (no timestamps, random ids or unordered sets in "change")`,
      );
    if (where) throw fail(`its plan's change holds something that is not JSON data at ${where}`);
    const second = await raceAbort(tool.def.plan!(planArgs as never, env.planCtx), env.planSignal);
    await release({ tool: tool.name, plan: second, discard: tool.def.discard }, this.o.log);
    if (canonicalJson(first.change) !== canonicalJson(second.change))
      throw fail('two plans of the same arguments gave different changes');
  }

  private entry(
    tool: RegisteredTool | undefined,
    name: string,
    rawArgs: unknown,
    call: CallContext,
    started: number,
    trail: Trail,
  ) {
    return {
      start: new Date(started).toISOString(),
      caller: call.caller,
      tool: name,
      instance: trail.instance,
      args: auditArgs(rawArgs, tool?.runtime.config.secrets, tool?.def.contentArgs),
      effect: tool?.effect,
      dryRun: trail.dryRun,
      ...(trail.changeHash ? { changeHash: trail.changeHash } : {}),
      ...(trail.summary
        ? { summary: tool ? tool.runtime.scrub(trail.summary).slice(0, MAX_SUMMARY) : trail.summary }
        : {}),
    };
  }

  private async finish(
    tool: RegisteredTool | undefined,
    name: string,
    rawArgs: unknown,
    call: CallContext,
    started: number,
    trail: Trail,
    result: CallToolResult,
    outcome: Outcome,
    error?: ToolError,
  ): Promise<CallToolResult> {
    const bytes = byteLength(JSON.stringify(result));
    this.o.metrics.observe(tool ? name : '(unknown)', outcome, (Date.now() - started) / 1000);
    try {
      await this.o.audit.record({
        ...this.entry(tool, name, rawArgs, call, started, trail),
        end: new Date().toISOString(),
        outcome,
        errorCode: error?.code,
        resultBytes: bytes,
        ...(trail.intent ? { phase: 'outcome', intent: trail.intent } : {}),
        ...((error?.details ?? trail.details)
          ? { details: auditDetails(error?.details ?? trail.details!, tool) }
          : {}),
      });
    } catch (err) {
      // reads are served and the loss counted (metrics, the chain's next `lost` note); writes fail below
      const report = this.o.audit.reportFailure(err);
      if (report) this.o.log.error(report);
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
  }

  private shapeDryRun(tool: RegisteredTool, answer: { data: unknown; text: string }, budget: number) {
    // the fitted preview carries its token even where its fixed parts exceed a tiny budget
    const whole = byteLength(JSON.stringify(answer.data)) + byteLength(answer.text);
    return this.shape(tool, answer, Math.max(budget, whole));
  }

  /** The answer as the caller gets it: redacted (around the values the tool revealed), then fitted. */
  shape(tool: RegisteredTool, out: ToolResult, budget: number, reveals?: Reveals): CallToolResult {
    const secrets = tool.runtime.config.secrets;
    const guarded = reveals ? reveals.guard(out.data, (v) => redact(v, secrets)) : redact(out.data, secrets);
    const data = reveals ? reveals.fill(guarded) : guarded;
    const partial = out.partial ? tool.runtime.scrub(out.partial) : undefined;
    const text = out.text ?? renderData(guarded);
    const rawText = reveals
      ? reveals.text(text, (s) => redact(s, secrets))
      : (redact(text, secrets) as string);
    // the budget is the structured JSON plus the text (page.ts); the text is cut to what is left
    const fitted = fitAnswer(tool.name, data, partial ? `${rawText}\npartial: ${partial}` : rawText, budget);
    return {
      content: [{ type: 'text', text: fitted.text }, ...((out.content ?? []) as CallToolResult['content'])],
      structuredContent: data as Record<string, unknown>,
      ...(partial ? { _meta: { 'infra-mcp/partial': { reason: partial } } } : {}),
    };
  }
}

function previewText(plan: Plan): string {
  return plan.text ?? (plan.items ? plan.items.map((i) => i.text).join('\n') : renderData(plan.preview));
}

/** Where a value holds something JSON cannot carry (a function, a symbol, a bigint, NaN), or undefined. */
function nonJsonPath(value: unknown, path: string): string | undefined {
  const t = typeof value;
  if (t === 'function' || t === 'symbol' || t === 'bigint') return `${path} (a ${t})`;
  if (t === 'number' && !Number.isFinite(value)) return `${path} (${value})`;
  if (value instanceof Date) return `${path} (a Date: use its ISO string)`;
  if (value instanceof Map || value instanceof Set) return `${path} (a ${value.constructor.name})`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const w = nonJsonPath(value[i], `${path}[${i}]`);
      if (w) return w;
    }
  } else if (value && t === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const w = nonJsonPath(v, `${path}.${k}`);
      if (w) return w;
    }
  }
  return undefined;
}

/**
 * Arguments as stored in the audit log: redacted; an approval token only as its hash (a token in
 * a readable log could be replayed); content arguments as their hash and size; very large
 * arguments as a hash, a size and a prefix.
 */
function auditArgs(args: unknown, secrets: readonly string[] = [], content: readonly string[] = []): unknown {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return boundJson(redact(args, secrets));
  const out = redact(args, secrets) as Record<string, unknown>;
  for (const name of content) {
    const value = (args as Record<string, unknown>)[name];
    if (value === undefined) continue;
    const json = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
    out[name] = { sha256: sha256(json), bytes: byteLength(json) };
  }
  if (typeof out.approval === 'string') out.approval = `sha256:${sha256(out.approval).slice(0, 16)}`;
  return boundJson(out);
}

function boundJson(value: unknown): unknown {
  const json = JSON.stringify(value) ?? 'null';
  if (byteLength(json) <= MAX_AUDIT_ARGS) return value;
  return { sha256: sha256(json), bytes: byteLength(json), prefix: json.slice(0, 1024) };
}

function auditDetails(details: Record<string, unknown>, tool?: RegisteredTool): unknown {
  // scrubbed like results (a run's stdout may echo a credential), then bounded
  if (!tool) return boundJson(details);
  const text = tool.runtime.scrub(JSON.stringify(details));
  try {
    return boundJson(JSON.parse(text));
  } catch {
    return boundJson({ text });
  }
}
