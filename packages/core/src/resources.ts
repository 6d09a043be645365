import type { CompleteResult } from '@modelcontextprotocol/sdk/types.js';
import type { AuditLog, Outcome } from './audit.js';
import { protocolError, raceAbort } from './call-errors.js';
import { toolContext } from './context.js';
import { isToolError } from './errors.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { Completer } from './plugin.js';
import { decide, type Policy } from './policy.js';
import { redact } from './redact.js';
import type { Registry } from './registry.js';
import type { PluginRuntime } from './runtime.js';

/** At most this many values per `completion/complete` answer (the spec's limit). */
export const MAX_COMPLETIONS = 100;

const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

export interface ReadPipelineOptions {
  registry: Registry;
  policy: Policy;
  audit: AuditLog;
  metrics: Metrics;
  log: Logger;
  maxBytes: number;
  timeoutMs: number;
}

/**
 * resources/read and completion/complete go through what tools/call does: policy (a resource or a
 * completion of a plugin is refused where its plugin or instance is denied), the timeout, scrubbing, and
 * one audit record each.
 */
export class ReadPipeline {
  constructor(private readonly o: ReadPipelineOptions) {}

  async readResource(uri: string, callSignal: AbortSignal | undefined, caller?: string) {
    const started = Date.now();
    for (const r of this.o.registry.resources) {
      let vars: Record<string, string> | undefined;
      if (r.uri === uri) vars = {};
      else if (r.template) {
        const m = r.template.exec(uri);
        if (m) vars = Object.fromEntries(r.templateVars.map((v, i) => [v, decodeURIComponent(m[i + 1]!)]));
      }
      if (!vars) continue;
      const name = `${r.runtime.plugin.id.replace(/-/g, '_')}_${r.def.name}`;
      return this.guarded(
        name,
        r.runtime,
        vars.instance,
        { uri },
        started,
        caller,
        callSignal,
        async (ctx) => {
          const contents = await r.def.read(new URL(uri), vars, ctx);
          return {
            contents: contents.map((c) => ({
              uri,
              mimeType: c.mimeType ?? r.def.mimeType,
              ...(c.blob !== undefined
                ? { blob: c.blob }
                : { text: r.runtime.scrub(redact(c.text ?? '', r.runtime.config.secrets) as string) }),
            })),
          };
        },
      );
    }
    throw protocolError(
      INVALID_PARAMS,
      `Resource not found: ${uri}. resources/list and resources/templates/list show what this server has`,
    );
  }

  /**
   * `completion/complete`: the completer of a prompt argument or a resource-template variable, with
   * the plugin client of the instance named in the other arguments (or the default).
   */
  async complete(
    ref: { type: string; name?: string; uri?: string },
    argument: { name: string; value: string },
    args: Record<string, string> | undefined,
    callSignal?: AbortSignal,
    caller?: string,
  ): Promise<CompleteResult> {
    const started = Date.now();
    let completers: Record<string, Completer> | undefined;
    let known: string[];
    let runtime: PluginRuntime;
    let what: string;
    let name: string;
    if (ref.type === 'ref/prompt') {
      const prompt = this.o.registry.prompts.get(ref.name ?? '');
      if (!prompt) throw protocolError(INVALID_PARAMS, `Unknown prompt: ${ref.name}`);
      ({ runtime } = prompt);
      completers = prompt.def.complete;
      known = Object.keys(prompt.def.args?.shape ?? {});
      what = `prompt ${prompt.name}`;
      name = prompt.name;
    } else {
      const resource = this.o.registry.resources.find((r) => r.def.template === ref.uri || r.uri === ref.uri);
      if (!resource)
        throw protocolError(
          INVALID_PARAMS,
          `Unknown resource or resource template: ${ref.uri}. resources/templates/list shows the templates`,
        );
      ({ runtime } = resource);
      completers = resource.def.complete;
      known = resource.templateVars;
      what = `resource ${ref.uri}`;
      name = `${runtime.plugin.id.replace(/-/g, '_')}_${resource.def.name}`;
    }
    if (!known.includes(argument.name))
      throw protocolError(
        INVALID_PARAMS,
        `${what} has no argument "${argument.name}"${known.length ? ` (it has ${known.join(', ')})` : ''}`,
      );
    const completer = completers?.[argument.name];
    if (!completer) return { completion: { values: [], total: 0, hasMore: false } };
    return this.guarded(
      name,
      runtime,
      args?.instance,
      { complete: argument.name, value: argument.value },
      started,
      caller,
      callSignal,
      async (ctx) => {
        const values = await completer(argument.value, args ? { arguments: args } : {}, {
          client: ctx.client,
          instance: ctx.instance,
          signal: ctx.signal,
        });
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
      },
      (message) => `completing ${argument.name} of ${what} failed: ${message}`,
    );
  }

  /** Policy, client, timeout, scrubbed errors, one audit record. */
  private async guarded<T>(
    name: string,
    runtime: PluginRuntime,
    requestedInstance: string | undefined,
    auditArgs: Record<string, unknown>,
    started: number,
    caller: string | undefined,
    callSignal: AbortSignal | undefined,
    work: (ctx: ReturnType<typeof toolContext>) => Promise<T>,
    describeError: (message: string) => string = (m) => m,
  ): Promise<T> {
    let instance: string | undefined;
    let outcome: Outcome = 'ok';
    let errorCode: string | undefined;
    try {
      instance = runtime.instanceName(
        requestedInstance && runtime.instanceNames.includes(requestedInstance)
          ? requestedInstance
          : undefined,
      );
      const decision = decide(this.o.policy, name, 'read', runtime.plugin.id, instance);
      if (!decision.allowed) {
        outcome = 'denied';
        errorCode = 'denied_by_policy';
        throw protocolError(INVALID_PARAMS, `${decision.reason}; ask the operator to change the policy`);
      }
      const timeout = AbortSignal.timeout(this.o.timeoutMs);
      const signal = callSignal ? AbortSignal.any([callSignal, timeout]) : timeout;
      const client = await raceAbort(runtime.client(instance), signal);
      const ctx = toolContext({
        runtime,
        instance,
        client,
        call: { caller, signal },
        signal,
        budget: this.o.maxBytes,
        timeoutMs: this.o.timeoutMs,
        deadline: started + this.o.timeoutMs,
        log: this.o.log,
      });
      return await raceAbort(work(ctx), signal);
    } catch (err) {
      if (outcome === 'denied') throw err;
      outcome = 'error';
      const e = err as Error;
      errorCode = isToolError(err) ? err.code : e?.name === 'TimeoutError' ? 'timeout' : 'backend_error';
      const message =
        e?.name === 'TimeoutError'
          ? `no answer within ${this.o.timeoutMs} ms`
          : runtime.scrub(e?.message ?? String(err));
      throw protocolError(INTERNAL_ERROR, describeError(message));
    } finally {
      this.o.metrics.observe(name, outcome, (Date.now() - started) / 1000);
      await this.o.audit
        .record({
          start: new Date(started).toISOString(),
          end: new Date().toISOString(),
          caller,
          tool: name,
          instance,
          args: redact(auditArgs, runtime.config.secrets),
          effect: 'read',
          dryRun: false,
          outcome,
          errorCode,
          resultBytes: 0,
        })
        .catch((err) => {
          const report = this.o.audit.reportFailure(err);
          if (report) this.o.log.error(report);
        });
    }
  }
}
