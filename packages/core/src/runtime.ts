import { Backends } from './backend.js';
import {
  type ResolvedPluginConfig,
  type ResolveSource,
  redactConfig,
  resolvePluginConfig,
} from './config.js';
import { ErrorCodes, isToolError, ToolError } from './errors.js';
import { expandInstances } from './instances.js';
import type { Logger } from './log.js';
import type { HealthReport, Plugin, SetupContext } from './plugin.js';
import { addSecret, redact, scrubText } from './redact.js';
import { showReferences } from './secret-refs.js';
import { validatePlugin } from './validate.js';

/** One enabled plugin with its resolved config and lazily created clients (one per instance). */
export class PluginRuntime {
  readonly instanceNames: string[];
  private readonly clients = new Map<string, Promise<unknown>>();

  constructor(
    readonly plugin: Plugin,
    readonly config: ResolvedPluginConfig,
    private readonly log: Logger,
    /** The server's backends: each instance's breaker, retries, cache and spans (`SetupContext.backend`). */
    private readonly backends: Backends = new Backends(),
  ) {
    this.instanceNames = Object.keys(config.instances);
  }

  static resolve(plugin: Plugin, source: ResolveSource, log: Logger, backends?: Backends): PluginRuntime {
    validatePlugin(plugin); // a factory passed uncalled, another zod major: one clear error at start
    const resolved = expandInstances(plugin, resolvePluginConfig(plugin, source), {
      fileName: source.fileName,
      log,
    });
    return new PluginRuntime(plugin, resolved, log, backends);
  }

  get defaultInstance(): string {
    return this.instanceNames[0]!;
  }

  instanceName(requested: string | undefined): string {
    const name = requested ?? this.defaultInstance;
    if (!(name in this.config.instances)) {
      throw new ToolError(
        ErrorCodes.unknownInstance,
        `unknown ${this.plugin.id} instance "${name}"`,
        `use one of: ${this.instanceNames.join(', ')}`,
      );
    }
    return name;
  }

  /** The client for an instance; `setup` runs at first use and is cached (retried after a failure). */
  client(instance: string): Promise<unknown> {
    let pending = this.clients.get(instance);
    if (!pending) {
      const options = this.config.instances[instance]!;
      const ctx: SetupContext = {
        instance,
        log: this.scrubbedLog,
        secret: (value) => addSecret(this.config.secrets, value),
        redact: (text) => this.scrub(text),
        backend: this.backends.get(this.plugin.id, instance),
      };
      pending = this.plugin.setup(options as never, ctx).catch((err) => {
        this.clients.delete(instance);
        throw isToolError(err)
          ? err
          : new ToolError(
              ErrorCodes.notConfigured,
              `${this.plugin.id}/${instance} setup failed: ${this.scrub((err as Error).message)}`,
              `check plugins.${this.plugin.id} in the config (infra-mcp config shows the effective values)`,
            );
      });
      this.clients.set(instance, pending);
    }
    return pending;
  }

  async health(instance: string): Promise<HealthReport> {
    try {
      const client = await this.client(instance);
      if (!this.plugin.health) return { ok: true, message: 'configured (no health check)' };
      const report = await this.plugin.health(client as never, this.config.instances[instance] as never);
      return {
        ...report,
        message: this.scrub(report.message),
        ...(report.details ? { details: redact(report.details, this.config.secrets) } : {}),
      };
    } catch (err) {
      return { ok: false, message: this.scrub((err as Error).message) };
    }
  }

  /** Effective config with secrets redacted; a secret given as a reference shows the reference (`env:NAME`). */
  redactedConfig(): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(this.config.instances).map(([name, c]) => {
        const shown = redactConfig(this.plugin.config, c);
        showReferences(shown, this.config.references?.[name]);
        return [name, shown];
      }),
    );
  }

  /** Text scrubbed of this plugin's secrets (known values first, then credential patterns). */
  scrub(text: string): string {
    return scrubText(text, this.config.secrets);
  }

  private scrubData(data: unknown): unknown {
    return data === undefined ? undefined : redact(data, this.config.secrets);
  }

  /** The server's logger, with every line scrubbed of this plugin's secrets (given to setup). */
  private readonly scrubbedLog: Logger = {
    debug: (m, d) => this.log.debug(this.scrub(m), this.scrubData(d)),
    info: (m, d) => this.log.info(this.scrub(m), this.scrubData(d)),
    warn: (m, d) => this.log.warn(this.scrub(m), this.scrubData(d)),
    error: (m, d) => this.log.error(this.scrub(m), this.scrubData(d)),
  };

  async close(): Promise<void> {
    const pending = [...this.clients.values()];
    this.clients.clear();
    for (const p of pending) {
      try {
        const client = await p;
        await this.plugin.dispose?.(client as never);
      } catch {
        // a client that never came up has nothing to dispose
      }
    }
  }
}
