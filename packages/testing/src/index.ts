import {
  type CreateServerOptions,
  createServer,
  type InfraMcpServer,
  MemoryAuditSink,
  type Plugin,
} from '@infra-mcp/core';
import { connectInMemory } from '@infra-mcp/core/client';

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
  close(): Promise<void>;
}

export type ConnectOptions = Omit<CreateServerOptions, 'plugins'> & {
  capabilities?: Record<string, unknown>;
};

/**
 * Build a server from plugins and connect an in-memory MCP client to it. Audit goes to memory
 * (`t.audit.records`) unless `audit` is given.
 *
 *   const t = await connect([prometheus({ url })]);
 *   const r = await t.call('prometheus_query', { query: 'up' });
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
        ...options,
        plugins: pluginsOrServer,
        audit: options.audit ?? [audit],
      })
    : pluginsOrServer;
  const client = await connectInMemory(server, options.capabilities);
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
    async close() {
      await client.close();
      await server.close();
    },
  };
}

const noop = () => {};
/** A logger that drops everything (tests keep stderr clean). */
export const quietLogger = { debug: noop, info: noop, warn: noop, error: noop };

/** Fail with a message naming the path when a shared fixture is missing (never pass silently). */
export async function requireFixture(path: string): Promise<string> {
  const { existsSync } = await import('node:fs');
  if (!existsSync(path))
    throw new Error(
      `test fixture missing: ${path} (expected ../shared/fixtures beside the repo; see ../shared/fixtures/README.md)`,
    );
  return path;
}
