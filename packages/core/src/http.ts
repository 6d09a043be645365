import { timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as NodeHttpServer,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import type { CallLimits } from './call.js';
import { Admission } from './http/admission.js';
import { Compression } from './http/compress.js';
import { answerPreflight, Origins, setCorsHeaders } from './http/cors.js';
import { RateLimiter, type RateLimitOptions, rateLimitMessage } from './http/rate-limit.js';
import { keepNoStore, setSecurityHeaders } from './http/security-headers.js';
import type { OAuthOptions } from './oauth.js';
import type { Access } from './scopes.js';
import type { InfraMcpServer } from './server.js';

export type { RateLimitOptions } from './http/rate-limit.js';

export interface HttpOptions {
  host?: string;
  port?: number;
  /** Bearer tokens: name -> token. When empty, no auth (only allowed on loopback unless `allowUnauthenticated`). */
  tokens?: Record<string, string>;
  /** Extra Host header values accepted besides the bound address and localhost (e.g. mcp.example.com). */
  allowedHosts?: string[];
  /**
   * Origins accepted for browser clients, answered with CORS headers: `scheme://host[:port]`, `*` for any
   * host-name characters (https://app.example.com, https://*.example.com). Loopback origins are always
   * accepted; a request without Origin (not a browser) passes; any other Origin gets 403.
   */
  allowedOrigins?: string[];
  /** Per-caller token bucket (caller: the bearer token's name, else the remote address); past it, 429 with Retry-After. Off when unset. */
  rateLimit?: RateLimitOptions;
  /**
   * Concurrency limits applied at the door: a tools/call over them is refused with 429 before any MCP
   * work (default: the server's `limits`). `false` leaves them to the call pipeline alone, which
   * answers `busy` as an audited tool result.
   */
  limits?: CallLimits | false;
  /** gzip JSON and SSE answers whose first chunk is at least this many bytes, for clients that accept it (default 1024; false: never). */
  compressMinBytes?: number | false;
  /** Clock of the rate limit, in ms (tests). */
  now?: () => number;
  /** Max request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /**
   * Deadline to receive the whole request body, in ms from when it starts being read (default
   * 10 000). A client sending its body slowly is answered 408 and disconnected at the deadline.
   */
  bodyTimeoutMs?: number;
  /** Rejected requests are logged at most once per reason per this many ms (default 60 000), with a count of the others. */
  rejectLogIntervalMs?: number;
  allowUnauthenticated?: boolean;
  /** OAuth 2.1 resource server: JWT access tokens from this issuer, besides any static `tokens`. */
  oauth?: OAuthOptions;
}

/** Why an HTTP request was refused: the `reason` label of `infra_mcp_http_rejected_total`. */
export type RejectReason =
  | 'rate_limited'
  | 'busy'
  | 'missing_token'
  | 'invalid_token'
  | 'host'
  | 'origin'
  | 'body_too_large'
  | 'body_timeout'
  | 'insufficient_scope'
  | 'auth_unavailable';

const REJECT_REASONS: readonly RejectReason[] = [
  'rate_limited',
  'busy',
  'missing_token',
  'invalid_token',
  'host',
  'origin',
  'body_too_large',
  'body_timeout',
  'insufficient_scope',
  'auth_unavailable',
];

/**
 * Counts rejected requests per reason (rendered for /metrics) and logs them rate-limited: at most one
 * line per reason per interval, saying how many of that reason were not logged since the last line.
 */
export class RejectionLog {
  private readonly counts = new Map<RejectReason, number>(REJECT_REASONS.map((r) => [r, 0]));
  private readonly last = new Map<RejectReason, { at: number; suppressed: number }>();

  constructor(
    private readonly log: (line: string) => void,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  reject(reason: RejectReason, detail: string, remote: string | undefined): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    const t = this.now();
    const state = this.last.get(reason);
    if (state && t - state.at < this.intervalMs) {
      state.suppressed++;
      return;
    }
    const suppressed = state?.suppressed ?? 0;
    this.last.set(reason, { at: t, suppressed: 0 });
    this.log(
      `http: rejected request (${reason}) from ${remote ?? 'unknown'}: ${detail}${suppressed ? `; ${suppressed} more ${reason} rejection${suppressed > 1 ? 's' : ''} not logged in the last ${Math.round((t - state!.at) / 1000)} s` : ''}`,
    );
  }

  count(reason: RejectReason): number {
    return this.counts.get(reason) ?? 0;
  }

  render(): string {
    const lines = [
      '# HELP infra_mcp_http_rejected_total HTTP requests refused before reaching MCP, by reason.',
      '# TYPE infra_mcp_http_rejected_total counter',
      ...REJECT_REASONS.map((r) => `infra_mcp_http_rejected_total{reason="${r}"} ${this.counts.get(r) ?? 0}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}

export interface RunningHttp {
  url: string;
  port: number;
  server: NodeHttpServer;
  /** Server->client requests (a tool's elicitation or sampling) waiting for the client's answer. */
  readonly pendingClientRequests: number;
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
  code = status === 413 ? -32600 : -32000,
) {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

type Response = Extract<JSONRPCMessage, { id: RequestId; method?: never }>;
const isResponse = (m: unknown): m is Response => isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m);

/**
 * Server->client requests (elicitation, sampling) over stateless HTTP. A tool's request goes out on
 * the SSE stream of the POST that carries the tool call; the client answers in a new POST, which a
 * fresh transport would not know. Every per-request transport's outgoing requests get a
 * process-unique id (`srv-<n>`: each protocol server counts from 0, so its own ids collide across
 * concurrent requests); a POST of only responses to pending ids is handed to the waiting transport
 * with the original id. One process only: across replicas the answer must reach the same one.
 */
export class PendingClientRequests {
  private next = 0;
  private readonly pending = new Map<
    string,
    { transport: Transport; id: RequestId; caller: string | undefined }
  >();

  /** Route `transport`'s outgoing requests through this table (before it is connected); forgotten when it closes. */
  track(transport: Transport, caller: string | undefined): void {
    const send = transport.send.bind(transport);
    const mine = new Map<RequestId, string>(); // original id -> routed id
    transport.send = async (message, options) => {
      let out = message;
      if (isJSONRPCRequest(message)) {
        const routed = `srv-${++this.next}`;
        this.pending.set(routed, { transport, id: message.id, caller });
        mine.set(message.id, routed);
        out = { ...message, id: routed };
        try {
          return await send(out, options);
        } catch (err) {
          // not sent (the client dropped the stream): nothing will answer it
          this.pending.delete(routed);
          mine.delete(message.id);
          throw err;
        }
      }
      if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
        // the server gave up on its request (the tool's timeout or cancellation): tell the client by the id it knows
        const routed = mine.get(message.params?.requestId as RequestId);
        if (routed !== undefined) {
          this.pending.delete(routed);
          out = { ...message, params: { ...message.params, requestId: routed } };
        }
      }
      return send(out, options);
    };
    const onclose = transport.onclose;
    transport.onclose = () => {
      for (const routed of mine.values()) this.pending.delete(routed);
      mine.clear();
      onclose?.();
    };
  }

  /** Hand responses to the transports waiting for them. Returns the ids nothing waits for (none delivered then). */
  deliver(responses: Response[], caller: string | undefined): RequestId[] {
    const unknown = responses
      .map((r) => r.id)
      .filter((id) => {
        const entry = typeof id === 'string' ? this.pending.get(id) : undefined;
        return !entry || entry.caller !== caller; // another caller's request is not theirs to answer
      });
    if (unknown.length) return unknown;
    for (const response of responses) {
      const routed = response.id as string;
      const entry = this.pending.get(routed)!;
      this.pending.delete(routed);
      entry.transport.onmessage?.({ ...response, id: entry.id } as JSONRPCMessage);
    }
    return [];
  }

  /** Requests still waiting for the client's answer. */
  get size(): number {
    return this.pending.size;
  }
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

/** Read the body within `limit` bytes and `deadlineMs`; stops reading at the first breach. */
function readBody(
  req: IncomingMessage,
  limit: number,
  deadlineMs: number,
): Promise<Buffer | 'too-large' | 'timeout' | 'aborted'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Buffer | 'too-large' | 'timeout' | 'aborted') => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish('too-large');
      chunks.push(chunk);
    };
    const onEnd = () => finish(Buffer.concat(chunks));
    const onError = () => finish('aborted');
    const onClose = () => finish(req.complete ? Buffer.concat(chunks) : 'aborted');
    const timer = setTimeout(() => finish('timeout'), deadlineMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * Serve MCP over Streamable HTTP at /mcp, stateless (any replica can answer any request), with
 * /healthz, /readyz and /metrics. Host/Origin validation guards against DNS rebinding.
 */
export async function serveHttp(app: InfraMcpServer, options: HttpOptions = {}): Promise<RunningHttp> {
  const host = options.host ?? '127.0.0.1';
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const rejections = new RejectionLog((line) => app.log.warn(line), options.rejectLogIntervalMs);
  const tokens = Object.entries(options.tokens ?? {});
  // jose loads only when OAuth is configured
  const oauth = options.oauth
    ? await (await import('./oauth.js')).OAuthResourceServer.create(options.oauth)
    : undefined;
  if (!LOOPBACK.has(hostnameOf(host)) && tokens.length === 0 && !oauth && !options.allowUnauthenticated) {
    throw new Error(
      `refusing to serve on ${host} without bearer tokens: set INFRA_MCP_TOKENS, --token-file or auth.oauth, or bind to 127.0.0.1`,
    );
  }
  const origins = new Origins(options.allowedOrigins);
  const rateLimit = options.rateLimit ? new RateLimiter(options.rateLimit, options.now) : undefined;
  const admission =
    options.limits === false ? undefined : new Admission(options.limits ?? app.options.limits);
  const compression =
    options.compressMinBytes === false ? undefined : new Compression(options.compressMinBytes ?? 1024);
  let port = options.port ?? 3000;
  const allowedHostnames = new Set([
    ...LOOPBACK,
    host,
    ...(options.allowedHosts ?? []).map((h) => hostnameOf(h)),
  ]);
  let closing = false;
  const pending = new PendingClientRequests();
  let readiness: { at: number; checks: ReturnType<InfraMcpServer['health']> } | undefined;
  const inflight = new Set<ServerResponse>();
  const presentedToken = (req: IncomingMessage) =>
    /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim() ?? '';
  /** The name of the token the request carries, when it is a valid one. */
  const callerOf = (req: IncomingMessage): string | undefined => {
    const presented = presentedToken(req);
    return presented ? tokens.find(([, t]) => safeEqual(presented, t))?.[0] : undefined;
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const hostHeader = req.headers.host ?? '';
    // probes and scrapers (kubelet, Prometheus) address the pod IP: /healthz, /readyz and /metrics
    // skip the Host check; browsers are still stopped by the Origin check below
    const probe = req.method === 'GET' && PROBE_PATHS.has(url.pathname);
    const remote = req.socket.remoteAddress;
    setSecurityHeaders(res);
    if (!probe && !allowedHostnames.has(hostnameOf(hostHeader))) {
      rejections.reject('host', `Host header ${JSON.stringify(hostHeader.slice(0, 100))}`, remote);
      return jsonRpcError(
        res,
        403,
        `Forbidden: Host header "${hostHeader}" is not allowed (DNS rebinding protection); add it to http.allowedHosts`,
      );
    }
    const origin = req.headers.origin;
    if (origin) {
      if (!origins.allows(origin)) {
        rejections.reject('origin', `Origin ${JSON.stringify(origin.slice(0, 100))}`, remote);
        return jsonRpcError(
          res,
          403,
          `Forbidden: Origin "${origin}" is not allowed (DNS rebinding protection); add it to http.allowedOrigins`,
        );
      }
      setCorsHeaders(res, origin);
      if (req.method === 'OPTIONS') return answerPreflight(res);
    }
    if (oauth?.metadataPaths.has(url.pathname)) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
      return res.end(oauth.metadata());
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
      const ready = !closing && checks.every((c) => c.report.ok);
      res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      // anyone may ask whether it is ready; what it reaches (addresses, versions) needs a valid token
      if (tokens.length === 0 || !callerOf(req)) return res.end(JSON.stringify({ ready }));
      return res.end(
        JSON.stringify({
          ready,
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
      return res.end(
        app.metrics.render() +
          rejections.render() +
          (rateLimit?.render() ?? '') +
          (admission?.render() ?? '') +
          (compression?.render() ?? ''),
      );
    }
    if (url.pathname !== '/mcp') return jsonRpcError(res, 404, 'Not found: the MCP endpoint is /mcp');

    let caller: string | undefined;
    let access: Access | undefined;
    if (tokens.length > 0 || oauth) {
      const presented = presentedToken(req);
      caller = callerOf(req);
      const identity = !caller && oauth ? await oauth.authenticate(presented) : undefined;
      if (identity && 'status' in identity) {
        rejections.reject(identity.reason, identity.message, remote);
        return jsonRpcError(res, identity.status, identity.message, identity.headers);
      }
      if (identity) ({ caller, access } = identity);
      if (!caller) {
        rejections.reject(
          presented ? 'invalid_token' : 'missing_token',
          presented ? 'invalid bearer token' : 'no bearer token',
          remote,
        );
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
    if (req.method === 'GET' || req.method === 'DELETE') {
      return jsonRpcError(
        res,
        405,
        'Method not allowed: this server is stateless; POST JSON-RPC messages to /mcp',
        { allow: 'POST' },
      );
    }
    if (req.method !== 'POST') return jsonRpcError(res, 405, 'Method not allowed', { allow: 'POST' });
    const body = await readBody(req, limit, bodyTimeoutMs);
    if (body === 'aborted') return;
    if (body === 'too-large') {
      rejections.reject('body_too_large', `body over ${limit} bytes`, remote);
      return jsonRpcError(res, 413, `Request body too large: the limit is ${limit} bytes`, {
        connection: 'close',
      });
    }
    if (body === 'timeout') {
      rejections.reject('body_timeout', `body not received within ${bodyTimeoutMs} ms`, remote);
      jsonRpcError(
        res,
        408,
        `Request timeout: the body was not received within ${bodyTimeoutMs / 1000} s`,
        { connection: 'close' },
        -32600,
      );
      // a slow sender is cut off, not left to trickle on
      res.once('finish', () => req.socket.destroy());
      return;
    }
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
    const messages = Array.isArray(parsed) ? parsed : [parsed];
    const answersOnly = messages.length > 0 && messages.every(isResponse);
    // answers to a tool's elicitation or sampling are not limited: the call waiting for them is already admitted
    const limited = answersOnly
      ? undefined
      : rateLimit?.take(caller ?? `address ${remote}`, caller ?? '(unauthenticated)');
    if (limited) {
      rejections.reject('rate_limited', rateLimitMessage(limited), remote);
      return jsonRpcError(res, 429, rateLimitMessage(limited), {
        'retry-after': String(limited.retryAfterSeconds),
      });
    }
    if (answersOnly) {
      // the client's answer to a request a tool sent (elicitation, sampling); accepted while shutting
      // down too, since the call that waits for it is in flight
      const unknown = pending.deliver(messages, caller);
      if (unknown.length === 0) {
        res.writeHead(202);
        return res.end();
      }
      return jsonRpcError(
        res,
        400,
        `Bad request: no pending server request with id ${unknown.map((id) => JSON.stringify(id)).join(', ')} in this server process (it has ended, or it was sent by another replica: server-to-client requests over stateless HTTP need sticky routing to the replica that sent them)`,
        {},
        -32600,
      );
    }
    if (closing) return jsonRpcError(res, 503, 'Server is shutting down', { connection: 'close' });
    const outOfScope = access && (await oauth!.refuseCall(app, parsed, caller!, access));
    if (outOfScope) {
      rejections.reject(outOfScope.reason, outOfScope.message, remote);
      return jsonRpcError(res, outOfScope.status, outOfScope.message, outOfScope.headers);
    }
    inflight.add(res);
    res.on('close', () => inflight.delete(res));
    const calls = messages.filter((m) => isJSONRPCRequest(m) && m.method === 'tools/call').length;
    const admitted = admission?.enter(calls, caller);
    if (admitted && typeof admitted !== 'function') {
      rejections.reject('busy', admitted.message, remote);
      return jsonRpcError(res, 429, admitted.message, { 'retry-after': '1' });
    }
    if (admitted) res.on('close', admitted);
    keepNoStore(res);
    compression?.wrap(req, res);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    pending.track(transport, caller);
    const server = await app.connect(transport, { stateless: true });
    res.on('close', () => {
      transport.close().catch(() => {});
      server.close().catch(() => {});
    });
    if (caller)
      (req as IncomingMessage & { auth?: unknown }).auth = {
        token: 'redacted',
        clientId: caller,
        scopes: access ? [...access.scopes] : [],
        ...(access ? { extra: { access } } : {}),
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
    get pendingClientRequests() {
      return pending.size;
    },
    /**
     * Graceful: refuse new work (503), let in-flight requests finish (up to 10 s), then close. The
     * listener stays open meanwhile: a call waiting for the client's answer (a tool's elicitation or
     * sampling) receives it in a new POST.
     */
    close: async () => {
      closing = true;
      server.closeIdleConnections();
      const deadline = Date.now() + 10_000;
      while (inflight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const idle = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await idle;
    },
  };
}
