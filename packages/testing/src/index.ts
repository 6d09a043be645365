import {
  type CreateServerOptions,
  createServer,
  type InfraMcpServer,
  MemoryAuditSink,
  type Plugin,
} from '@infra-mcp/core';
import {
  connectInMemory,
  type ElicitHandler,
  handleElicitation,
  handleSampling,
  type SampleHandler,
} from '@infra-mcp/core/client';

export type { ElicitHandler, ElicitRequest, SampleHandler } from '@infra-mcp/core/client';

export interface CallResult {
  isError: boolean;
  /** The text rendering (all text content blocks joined). */
  text: string;
  structured: any;
  /** Stable error code for isError results. */
  errorCode?: string;
  raw: any;
}

export interface TestClient {
  server: InfraMcpServer;
  audit: MemoryAuditSink;
  /** The underlying MCP SDK client. */
  client: Awaited<ReturnType<typeof connectInMemory>>;
  listTools(): Promise<any[]>;
  call(
    name: string,
    args?: Record<string, unknown>,
    options?: { signal?: AbortSignal; onprogress?: (p: unknown) => void; timeout?: number },
  ): Promise<CallResult>;
  /** Answer the tools' `ctx.elicit` from now on (needs `elicit` or `capabilities.elicitation` at connect). */
  onElicit(handler: ElicitHandler): void;
  /** Answer the tools' `ctx.sample` from now on (needs `sample` or `capabilities.sampling` at connect). */
  onSample(handler: SampleHandler): void;
  close(): Promise<void>;
}

export type ConnectOptions = Omit<CreateServerOptions, 'plugins'> & {
  /** Client capabilities declared at initialize. */
  capabilities?: Record<string, unknown>;
  /** The user's answers to `ctx.elicit` (declares the `elicitation` capability). */
  elicit?: ElicitHandler;
  /** The client model's answers to `ctx.sample` (declares the `sampling` capability). */
  sample?: SampleHandler;
};

/**
 * Build a server from plugins and connect an in-memory MCP client to it. Audit goes to memory
 * (`t.audit.records`) unless `audit` is given.
 *
 *   const t = await connect([prometheus({ url })]);
 *   const r = await t.call('prometheus_query', { query: 'up' });
 *
 * Tools that ask the client (`ctx.elicit`, `ctx.sample`) get their answers from `elicit`/`sample`:
 *
 *   const t = await connect([mine()], { elicit: () => ({ action: 'accept', content: { confirm: true } }) });
 */
export async function connect(
  pluginsOrServer: Plugin[] | InfraMcpServer,
  options: ConnectOptions = {},
): Promise<TestClient> {
  const audit = new MemoryAuditSink();
  const server = Array.isArray(pluginsOrServer)
    ? createServer({
        env: {},
        logger: quietLogger,
        // a write tool whose plan is not deterministic fails its tests, not its first user
        checkPlans: true,
        ...options,
        plugins: pluginsOrServer,
        audit: options.audit ?? [audit],
      })
    : pluginsOrServer;
  const { elicit, sample } = options;
  const client = await connectInMemory(server, {
    ...(elicit ? { elicitation: {} } : {}),
    ...(sample ? { sampling: {} } : {}),
    ...options.capabilities,
  });
  if (elicit) handleElicitation(client, elicit);
  if (sample) handleSampling(client, sample);
  return {
    server,
    audit,
    client,
    async listTools() {
      return (await client.listTools()).tools;
    },
    async call(name, args = {}, opts = {}) {
      const raw: any = await client.callTool({ name, arguments: args }, undefined, {
        signal: opts.signal,
        onprogress: opts.onprogress as never,
        timeout: opts.timeout,
      });
      const text = (raw.content ?? [])
        .filter((c: any) => c.type === 'text')
        .map((c: any) => c.text)
        .join('\n');
      return {
        isError: !!raw.isError,
        text,
        structured: raw.structuredContent,
        errorCode: raw._meta?.['infra-mcp/error']?.code,
        raw,
      };
    },
    onElicit(handler) {
      handleElicitation(client, handler);
    },
    onSample(handler) {
      handleSampling(client, handler);
    },
    async close() {
      await client.close();
      await server.close();
    },
  };
}

const noop = () => {};
/** A logger that drops everything (tests keep stderr clean). */
export const quietLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** Fail with a message naming the path when a test fixture is missing (never pass silently). */
export async function requireFixture(path: string): Promise<string> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(path))
    throw new Error(
      `test fixture missing: ${path}; fixtures are vendored in the repo under the package's test/fixtures (see its README for provenance)`,
    );
  return path;
}
