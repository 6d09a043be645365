import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { type ApprovalOptions, type ApprovalStore, Approvals } from './approval.js';
import { AuditLog, type AuditSink, JsonlAuditSink } from './audit.js';
import { Backends, type ResilienceOptions } from './backend.js';
import { type CallLimits, CallPipeline } from './call.js';
import type { CallContext } from './call-context.js';
import { HeldPlans } from './held-plans.js';
import { type Logger, stderrLogger } from './log.js';
import { Metrics } from './metrics.js';
import { DEFAULT_BUDGET } from './output.js';
import type { HealthReport, Plugin } from './plugin.js';
import type { Policy } from './policy.js';
import { buildRegistry, type Registry } from './registry.js';
import { ReadPipeline } from './resources.js';
import { PluginRuntime } from './runtime.js';
import { type ConnectOptions, sdkServer } from './sdk.js';
import { type TaskOptions, Tasks } from './tasks.js';

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
  /**
   * Toolsets to list for every plugin (`--toolsets`): names (`query`), `plugin/name`, or `all`;
   * unset: each plugin's config (`plugins.<id>.toolsets`), else its defaults.
   */
  toolsets?: readonly string[];
  /** Calls running at once, server-wide and per caller; past them a call answers `busy`. */
  limits?: CallLimits;
  /**
   * Plan every dry run twice and refuse a write tool whose plan is not deterministic (its approval
   * could never match). For tests and plugin development; `@infra-mcp/testing` turns it on.
   */
  checkPlans?: boolean;
  logger?: Logger;
  instructions?: string;
  /**
   * MCP tasks for long calls (clients that send tools/call with `task`): where task state lives and
   * for how long. `false` serves no tasks (tools are only called directly).
   */
  tasks?: TaskOptions | false;
  /**
   * Backend requests (`SetupContext.backend`): circuit breaker per instance, retries of idempotent
   * reads, the discovery cache, and where spans go (default: the global OpenTelemetry provider).
   */
  resilience?: ResilienceOptions;
}

/**
 * One server: plugins resolved and registered once at start, then any number of protocol servers
 * (one per stdio connection, one per stateless HTTP request) dispatching into the same pipelines.
 */
export class InfraMcpServer {
  readonly registry: Registry;
  readonly metrics = new Metrics();
  readonly audit: AuditLog;
  readonly log: Logger;
  /** Every backend instance's breaker, retry and cache counters. */
  readonly backends: Backends;
  private readonly plans: HeldPlans;
  private readonly approvalStore: ApprovalStore;
  private readonly calls: CallPipeline;
  private readonly reads: ReadPipeline;
  /** Tasks of this server, shared by every protocol server (stateless HTTP: tasks/get on any request). */
  readonly tasks?: Tasks;
  private readonly sdkServers = new Set<Server>();
  private inflight = 0;
  private readonly closeHooks: (() => Promise<void>)[] = [];
  private idleWaiters: (() => void)[] = [];

  constructor(readonly options: CreateServerOptions) {
    this.log = options.logger ?? stderrLogger();
    const maxBytes = options.maxBytes ?? DEFAULT_BUDGET;
    const timeoutMs = options.timeoutMs ?? 30_000;
    this.audit = new AuditLog(options.audit ?? [new JsonlAuditSink()]);
    this.metrics.auditStatus = () => this.audit.status();
    this.backends = new Backends(options.resilience);
    this.metrics.backends = () => this.backends.metricLines();
    const runtimes: PluginRuntime[] = [];
    for (const plugin of options.plugins) {
      const runtime = PluginRuntime.resolve(
        plugin,
        { file: options.pluginConfig?.[plugin.id], fileName: options.configFile, env: options.env },
        this.log,
        this.backends,
      );
      if (runtime.config.enabled) runtimes.push(runtime);
    }
    const base = options.policy ?? {};
    const policy: Policy = { ...base, plugins: { ...base.plugins } };
    for (const r of runtimes) {
      const p = r.config.policy;
      if (Object.keys(p).length) policy.plugins![r.plugin.id] = { ...p, ...policy.plugins![r.plugin.id] };
    }
    this.registry = buildRegistry(runtimes, policy, { toolsets: options.toolsets ?? policy.toolsets });
    this.plans = new HeldPlans(this.log);
    const approvals = new Approvals(options.approvals);
    this.approvalStore = approvals.store;
    this.calls = new CallPipeline({
      registry: this.registry,
      policy,
      approvals,
      approvalMode: options.approvals?.mode ?? 'token',
      plans: this.plans,
      audit: this.audit,
      metrics: this.metrics,
      tracer: () => this.backends.tracer(),
      log: this.log,
      maxBytes,
      timeoutMs,
      limits: options.limits,
      checkPlans: options.checkPlans,
    });
    if (options.tasks !== false) this.tasks = new Tasks(options.tasks ?? {}, this.log);
    this.reads = new ReadPipeline({
      registry: this.registry,
      policy,
      audit: this.audit,
      metrics: this.metrics,
      log: this.log,
      maxBytes,
      timeoutMs,
    });
  }

  /** A protocol server bound to this registry. One per transport (stateless HTTP: one per request). */
  mcpServer(options: ConnectOptions = {}): Server {
    const server = sdkServer(
      {
        name: this.options.name ?? 'infra-mcp',
        version: this.options.version ?? '0.0.0',
        instructions: this.options.instructions,
        registry: this.registry,
        calls: { call: (name, args, call) => this.callTool(name, args, call) } as CallPipeline,
        // a task's call is not a request in flight (idle() is about answers owed); close() ends tasks
        taskCalls: this.calls,
        reads: this.reads,
        tasks: this.tasks,
      },
      options,
    );
    this.sdkServers.add(server);
    const closed = server.onclose;
    server.onclose = () => {
      closed?.();
      this.sdkServers.delete(server);
    };
    return server;
  }

  /** Connect a transport (stdio, in-memory, one HTTP request). */
  async connect(transport: Transport, options: ConnectOptions = {}): Promise<Server> {
    const server = this.mcpServer(options);
    await server.connect(transport);
    return server;
  }

  /** The tools/call pipeline (see CallPipeline); counted so shutdown can wait for running calls. */
  async callTool(name: string, rawArgs: unknown, call: CallContext = {}): Promise<CallToolResult> {
    this.inflight++;
    try {
      return await this.calls.call(name, rawArgs, call);
    } finally {
      if (--this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves when no tools/call is running. */
  idle(): Promise<void> {
    return this.inflight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Health of every enabled plugin instance and of the shared approval and task stores (doctor,
   * /readyz): a replica whose store is unreachable cannot run approved calls or tasks.
   */
  async health(): Promise<{ plugin: string; instance: string; report: HealthReport }[]> {
    const checks = this.registry.runtimes.flatMap((r) =>
      r.instanceNames.map(async (instance) => ({
        plugin: r.plugin.id,
        instance,
        report: await r.health(instance),
      })),
    );
    const stores = [
      ['approvals', this.approvalStore],
      ['tasks', this.tasks?.store],
    ] as const;
    for (const [name, store] of stores)
      if (store?.health) {
        const check = store.health.bind(store);
        checks.push(
          check()
            .catch((err: Error): HealthReport => ({ ok: false, message: err.message }))
            .then((report) => ({ plugin: name, instance: 'store', report })),
        );
      }
    return Promise.all(checks);
  }

  /** Run at close, after the plugins and the audit log (flush and stop a trace exporter). */
  onClose(hook: () => Promise<void>): void {
    this.closeHooks.push(hook);
  }

  async close(): Promise<void> {
    for (const s of [...this.sdkServers]) await s.close().catch(() => {});
    // calls running as tasks outlive their requests: cancel them, and let them answer (and audit) first
    await this.tasks?.close(new Error('the server is shutting down'));
    await this.plans.close();
    for (const r of this.registry.runtimes) await r.close();
    await this.audit.close();
    // a shared approval store (Redis, DynamoDB) holds a connection
    await this.approvalStore.close?.().catch(() => {});
    await this.tasks?.store.close?.().catch(() => {});
    for (const hook of this.closeHooks.splice(0)) await hook().catch(() => {});
  }
}

export function createServer(options: CreateServerOptions): InfraMcpServer {
  return new InfraMcpServer(options);
}
