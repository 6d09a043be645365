import { timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as NodeHttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { InfraMcpServer } from './server.js';

export interface HttpOptions {
  host?: string;
  port?: number;
  /** Bearer tokens: name -> token. When empty, no auth (only allowed on loopback unless `allowUnauthenticated`). */
  tokens?: Record<string, string>;
  /** Extra Host header values accepted besides the bound address and localhost (e.g. mcp.example.com). */
  allowedHosts?: string[];
  /** Origins accepted for browser clients (exact, e.g. https://app.example.com). Loopback origins are always accepted. */
  allowedOrigins?: string[];
  /** Max request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  allowUnauthenticated?: boolean;
}

export interface RunningHttp {
  url: string;
  port: number;
  server: NodeHttpServer;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const PROBE_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const READY_CACHE_MS = 5000;

function jsonRpcError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(
    JSON.stringify({ jsonrpc: '2.0', error: { code: status === 413 ? -32600 : -32000, message }, id: null }),
  );
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab); // same work on a length mismatch, so timing does not reveal the length
    return false;
  }
  return timingSafeEqual(ab, bb);
}

/** Host header or host option -> bare lower-case hostname (IPv6 without brackets). */
function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  if (h.split(':').length > 2) return h; // a bare IPv6 address
  return h.split(':')[0]!;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return 'too-large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Serve MCP over Streamable HTTP at /mcp, stateless (any replica can answer any request), with
 * /healthz, /readyz and /metrics. Host/Origin validation guards against DNS rebinding.
 */
export async function serveHttp(app: InfraMcpServer, options: HttpOptions = {}): Promise<RunningHttp> {
  const host = options.host ?? '127.0.0.1';
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const tokens = Object.entries(options.tokens ?? {});
  if (!LOOPBACK.has(hostnameOf(host)) && tokens.length === 0 && !options.allowUnauthenticated) {
    throw new Error(
      `refusing to serve on ${host} without bearer tokens: set INFRA_MCP_TOKENS or --token-file, or bind to 127.0.0.1`,
    );
  }
  let port = options.port ?? 3000;
  const allowedHostnames = new Set([
    ...LOOPBACK,
    host,
    ...(options.allowedHosts ?? []).map((h) => hostnameOf(h)),
  ]);
  let closing = false;
  let readiness: { at: number; checks: ReturnType<InfraMcpServer['health']> } | undefined;
  const inflight = new Set<ServerResponse>();

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const hostHeader = req.headers.host ?? '';
    // probes and scrapers (kubelet, Prometheus) address the pod IP: /healthz, /readyz and /metrics
    // skip the Host check; browsers are still stopped by the Origin check below
    const probe = req.method === 'GET' && PROBE_PATHS.has(url.pathname);
    if (!probe && !allowedHostnames.has(hostnameOf(hostHeader))) {
      return jsonRpcError(
        res,
        403,
        `Forbidden: Host header "${hostHeader}" is not allowed (DNS rebinding protection); add it to http.allowedHosts`,
      );
    }
    const origin = req.headers.origin;
    if (origin) {
      let ok = (options.allowedOrigins ?? []).includes(origin);
      try {
        const o = new URL(origin);
        ok ||= LOOPBACK.has(hostnameOf(o.hostname));
      } catch {}
      if (!ok)
        return jsonRpcError(
          res,
          403,
          `Forbidden: Origin "${origin}" is not allowed; add it to http.allowedOrigins`,
        );
    }
    if (url.pathname === '/healthz') {
      res.writeHead(closing ? 503 : 200, { 'content-type': 'text/plain' });
      return res.end(closing ? 'shutting down\n' : 'ok\n');
    }
    if (url.pathname === '/readyz') {
      // backends are checked at most every few seconds, however often the probe comes
      if (!readiness || Date.now() - readiness.at > READY_CACHE_MS)
        readiness = { at: Date.now(), checks: app.health() };
      const checks = await readiness.checks;
      const ok = !closing && checks.every((c) => c.report.ok);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          ok,
          checks: checks.map((c) => ({
            plugin: c.plugin,
            instance: c.instance,
            ok: c.report.ok,
            message: c.report.message,
          })),
        }),
      );
    }
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      return res.end(app.metrics.render());
    }
    if (url.pathname !== '/mcp') return jsonRpcError(res, 404, 'Not found: the MCP endpoint is /mcp');

    let caller: string | undefined;
    if (tokens.length > 0) {
      const auth = req.headers.authorization ?? '';
      const presented = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim() ?? '';
      caller = tokens.find(([, t]) => safeEqual(presented, t))?.[0];
      if (!caller) {
        return jsonRpcError(
          res,
          401,
          presented
            ? 'Unauthorized: invalid bearer token'
            : 'Unauthorized: send Authorization: Bearer <token>',
          {
            'www-authenticate': `Bearer realm="infra-mcp"${presented ? ', error="invalid_token"' : ''}`,
          },
        );
      }
    }
    if (closing) return jsonRpcError(res, 503, 'Server is shutting down', { connection: 'close' });
    if (req.method === 'GET' || req.method === 'DELETE') {
      return jsonRpcError(
        res,
        405,
        'Method not allowed: this server is stateless; POST JSON-RPC messages to /mcp',
        { allow: 'POST' },
      );
    }
    if (req.method !== 'POST') return jsonRpcError(res, 405, 'Method not allowed', { allow: 'POST' });
    const body = await readBody(req, limit);
    if (body === 'too-large')
      return jsonRpcError(res, 413, `Request body too large: the limit is ${limit} bytes`, {
        connection: 'close',
      });
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      return res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          error: { code: -32700, message: 'Parse error: body is not valid JSON' },
          id: null,
        }),
      );
    }
    inflight.add(res);
    res.on('close', () => inflight.delete(res));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    const server = await app.connect(transport);
    res.on('close', () => {
      transport.close().catch(() => {});
      server.close().catch(() => {});
    });
    if (caller)
      (req as IncomingMessage & { auth?: unknown }).auth = {
        token: 'redacted',
        clientId: caller,
        scopes: [],
      };
    await transport.handleRequest(req as never, res, parsed);
  };

  const server = createHttpServer((req, res) => {
    handler(req, res).catch((err) => {
      app.log.error(`http: ${(err as Error).message}`);
      jsonRpcError(res, 500, 'Internal error');
    });
  });
  server.requestTimeout = 5 * 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const display = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${display}:${port}/mcp`,
    port,
    server,
    /** Graceful: stop accepting, let in-flight requests finish (up to 10 s), then close. */
    close: async () => {
      closing = true;
      const idle = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const deadline = Date.now() + 10_000;
      while (inflight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      server.closeAllConnections();
      await idle;
    },
  };
}
