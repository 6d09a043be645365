import { readFileSync, statSync } from 'node:fs';
import type http from 'node:http';
import type https from 'node:https';
import { type Backend, ErrorCodes, type Logger, ToolError } from '@infra-mcp/core';
import { createHttpsAgent } from '@infra-mcp/core/tls';
import type { PrometheusConfig } from './config.js';

/** Query parameters; pairs so that repeated keys (match[]) survive. */
export type Params = [string, string][];

export interface ApiResult<T> {
  data: T;
  warnings: string[];
  infos: string[];
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Send as a POST form body (long queries); falls back to GET when the server answers 405. */
  post?: boolean;
  /** The PromQL text, to point at parse error positions. */
  query?: string;
  /** A discovery read (label names, metadata): served from core's TTL cache while fresh. */
  cache?: boolean;
}

interface RawResponse {
  status: number;
  contentType: string;
  body: string;
}

type Signer = (req: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}) => Promise<{ url: URL; headers: Record<string, string> }>;

/** Longest query (or series selector) sent: longer ones are refused at once, not run until the timeout. */
export const MAX_QUERY_BYTES = 64 << 10;
/** Requests waiting for a free slot beyond this many per in-flight slot are refused as busy. */
const QUEUE_PER_SLOT = 4;

/** What the client gets from core at setup: secret scrubbing. */
export interface ClientHooks {
  /** Redact text (known secrets, then credential patterns). */
  redact?: (text: string) => string;
  /** Add a secret learned at run time (the bearer token file's contents). */
  secret?: (value: string) => void;
  /** core's backend of this instance: spans, circuit breaker, retries of GETs, the discovery cache. */
  backend?: Backend;
}

/** node:http and node:https load at the first request, not at server start (~20 ms saved). */
const httpModule = () => process.getBuiltinModule('node:http') as typeof http;
const httpsModule = () => process.getBuiltinModule('node:https') as typeof https;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
]);

/** An API error about the query, not the server: `{"status":"error","errorType":"timeout",...}`. */
const QUERY_ERROR = /"errorType"\s*:\s*"(timeout|canceled|execution|bad_data)"/;

/** HTTP client of one Prometheus-compatible instance (Prometheus, AMP, Mimir, Thanos, VictoriaMetrics). */
export class PrometheusClient {
  readonly base: URL;
  /** The base URL without userinfo or query string: safe to show. */
  readonly displayUrl: string;
  private readonly agent: http.Agent;
  private readonly staticHeaders: Record<string, string>;
  private postRefused = false;
  private tokenCache?: { mtimeMs: number; token: string };
  private signer?: Promise<Signer>;
  private readonly redactText: (text: string) => string;
  private readonly learnSecret: (value: string) => void;
  private readonly backend?: Backend;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly config: PrometheusConfig,
    readonly instance: string,
    private readonly log: Logger,
    hooks: ClientHooks = {},
  ) {
    this.redactText = hooks.redact ?? ((t) => t);
    this.learnSecret = hooks.secret ?? (() => {});
    this.backend = hooks.backend;
    const base = new URL(config.url);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    base.search = '';
    base.hash = '';
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': 'infra-mcp-prometheus',
    };
    if (base.username || base.password) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`;
      base.username = '';
      base.password = '';
    }
    this.base = base;
    this.displayUrl = base.toString();
    if (config.basicAuth) {
      headers.authorization = `Basic ${Buffer.from(`${config.basicAuth.username}:${config.basicAuth.password}`).toString('base64')}`;
    }
    if (config.bearerToken) headers.authorization = `Bearer ${config.bearerToken}`;
    for (const [k, v] of Object.entries(config.headers ?? {})) headers[k.toLowerCase()] = v;
    this.staticHeaders = headers;
    // read at setup so its contents are scrubbed from the first answer on (a bad path fails at first request)
    if (config.bearerTokenFile) {
      try {
        this.fileToken(config.bearerTokenFile);
      } catch {
        // reported with a fix at the first request
      }
    }

    if (base.protocol === 'https:') {
      this.agent = createHttpsAgent(config.tls, {
        label: `prometheus instance "${instance}" (${this.displayUrl})`,
        log,
      });
    } else if (base.protocol === 'http:') {
      if (config.tls?.caFile || config.tls?.certFile || config.tls?.fingerprint256)
        log.warn(`prometheus instance "${instance}": tls options are ignored for an http:// URL`);
      this.agent = new (httpModule().Agent)({ keepAlive: true });
    } else {
      throw new Error(
        `prometheus instance "${instance}": url must be http:// or https://, got ${base.protocol}`,
      );
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /** Backend text scrubbed of this plugin's secrets (known values, then credential patterns). */
  readonly redact = (text: string): string => this.redactText(text);

  /** Call a Prometheus HTTP API path (relative to the base URL, e.g. "api/v1/query") and unwrap its envelope. */
  async api<T>(path: string, params: Params = [], options: RequestOptions = {}): Promise<ApiResult<T>> {
    if (options.cache && this.backend) {
      const key = `${path}?${new URLSearchParams(params).toString()}`;
      return this.backend.cached(key, () => this.api<T>(path, params, { ...options, cache: false }));
    }
    const raw = await this.request(path, params, options);
    let body: any;
    try {
      // scrubbed before any tool sees it: a tool that abbreviates a string would cut a secret in two
      body = JSON.parse(this.redactText(raw.body));
    } catch {
      throw this.httpError(raw, path);
    }
    if (body?.status === 'success') {
      return { data: body.data as T, warnings: body.warnings ?? [], infos: body.infos ?? [] };
    }
    if (body?.status === 'error') throw this.apiError(body, raw.status, path, options.query);
    throw this.httpError(raw, path);
  }

  /** Raw request; POST form body (GET fallback on 405) or GET. */
  async request(path: string, params: Params, options: RequestOptions = {}): Promise<RawResponse> {
    for (const [name, value] of params) {
      if (value.length > MAX_QUERY_BYTES) {
        const bytes = Buffer.byteLength(value);
        throw new ToolError(
          'query_too_long',
          `${name} is ${formatBytes(bytes)}; queries are limited to ${formatBytes(MAX_QUERY_BYTES)}`,
          'write a shorter query: use regex matchers (job=~"a|b") or aggregation instead of long lists of series',
          { param: name, bytes, limit: MAX_QUERY_BYTES },
        );
      }
    }
    await this.acquire(options.signal);
    try {
      return await this.requestNow(path, params, options);
    } finally {
      this.release();
    }
  }

  /** Wait for one of `maxConcurrentRequests` slots; refuse as busy when too many already wait. */
  private acquire(signal?: AbortSignal): Promise<void> {
    const limit = this.config.maxConcurrentRequests;
    if (this.inFlight < limit) {
      this.inFlight++;
      return Promise.resolve();
    }
    if (this.waiting.length >= limit * QUEUE_PER_SLOT) {
      return Promise.reject(
        new ToolError(
          'busy',
          `prometheus instance "${this.instance}" has ${this.inFlight} requests running and ${this.waiting.length} waiting (maxConcurrentRequests: ${limit})`,
          'retry in a few seconds, or ask fewer questions at once',
          { inFlight: this.inFlight, waiting: this.waiting.length, limit },
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const go = () => {
        signal?.removeEventListener('abort', onAbort);
        this.inFlight++;
        resolve();
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(go);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(go);
    });
  }

  private release(): void {
    this.inFlight--;
    this.waiting.shift()?.();
  }

  private async requestNow(path: string, params: Params, options: RequestOptions): Promise<RawResponse> {
    const usePost = (options.post ?? false) && this.config.method === 'POST' && !this.postRefused;
    const form = new URLSearchParams(params).toString();
    if (usePost) {
      const res = await this.send('POST', new URL(path, this.base), form, options.signal);
      if (res.status !== 405) return res;
      this.postRefused = true;
      this.log.info(`prometheus instance "${this.instance}" refused POST (405); using GET from now on`);
    }
    const url = new URL(path, this.base);
    url.search = form;
    return this.send('GET', url, undefined, options.signal);
  }

  /** Headers of one request (and the URL to send: SigV4 re-encodes the query the way it signed it). */
  private async prepare(
    method: string,
    url: URL,
    body: string | undefined,
  ): Promise<{ url: URL; headers: Record<string, string> }> {
    const headers: Record<string, string> = { ...this.staticHeaders };
    if (this.config.bearerTokenFile)
      headers.authorization = `Bearer ${this.fileToken(this.config.bearerTokenFile)}`;
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    if (this.config.sigv4) {
      if (!this.signer) {
        this.signer = this.makeSigner();
        this.signer.catch(() => {
          this.signer = undefined;
        });
      }
      const sign = await this.signer;
      return sign({ method, url, headers, body });
    }
    return { url, headers };
  }

  private fileToken(file: string): string {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch (err) {
      throw new ToolError(
        ErrorCodes.notConfigured,
        `bearerTokenFile ${file} cannot be read: ${(err as Error).message}`,
        'fix bearerTokenFile in the config',
      );
    }
    if (this.tokenCache?.mtimeMs !== mtimeMs) {
      this.tokenCache = { mtimeMs, token: readFileSync(file, 'utf8').trim() };
      this.learnSecret(this.tokenCache.token);
    }
    return this.tokenCache.token;
  }

  /** SigV4 signing, loaded at first use so the AWS SDK never loads at server start. */
  private async makeSigner(): Promise<Signer> {
    const sigv4 = this.config.sigv4!;
    const [{ prepareSignedRequest }, { resolveAwsCredentials }] = await Promise.all([
      import('./sigv4.js'),
      import('./aws.js'),
    ]);
    // resolveAwsCredentials caches, and refreshes temporary credentials before they expire.
    return async (req) =>
      prepareSignedRequest(req, {
        region: sigv4.region,
        service: sigv4.service,
        credentials: await resolveAwsCredentials(sigv4),
      });
  }

  /** One request through core's backend (span, breaker, retries of GETs), or straight when used alone. */
  private send(
    method: 'GET' | 'POST',
    target: URL,
    body: string | undefined,
    signal?: AbortSignal,
  ): Promise<RawResponse> {
    if (!this.backend) return this.sendOnce(method, target, body, signal);
    return this.backend.request(
      {
        method,
        target: target.pathname,
        signal,
        status: (r) => r.status,
        // Prometheus answers a query that timed out or failed with 503/500: the server itself is fine
        fault: (r, status) => status >= 500 && !QUERY_ERROR.test(r.body.slice(0, 256)),
        attributes: { 'server.address': this.base.hostname, 'server.port': Number(this.base.port) || 0 },
      },
      () => this.sendOnce(method, target, body, signal),
    );
  }

  private sendOnce(
    method: 'GET' | 'POST',
    target: URL,
    body: string | undefined,
    signal?: AbortSignal,
  ): Promise<RawResponse> {
    const timeoutMs = this.config.timeoutMs;
    return this.prepare(method, target, body).then(
      ({ url, headers }) =>
        new Promise<RawResponse>((resolve, reject) => {
          if (signal?.aborted) return reject(signal.reason);
          let timedOut = false;
          const req = (url.protocol === 'https:' ? httpsModule() : httpModule()).request(url, {
            method,
            headers,
            agent: this.agent,
          });
          const timer = setTimeout(() => {
            timedOut = true;
            req.destroy(new Error('timeout'));
          }, timeoutMs);
          const onAbort = () =>
            req.destroy(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
          signal?.addEventListener('abort', onAbort, { once: true });
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
          };
          req.on('response', (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            const max = this.config.maxResponseBytes;
            const tooLarge = () =>
              new ToolError(
                'response_too_large',
                `prometheus instance "${this.instance}" answered with more than ${formatBytes(max)} (maxResponseBytes); reading stopped there`,
                'narrow the query: label matchers, topk(), sum by (...), a shorter range or a larger step; or raise maxResponseBytes for this instance',
                { limit: max },
              );
            const declared = Number(res.headers['content-length']);
            if (Number.isFinite(declared) && declared > max) {
              req.destroy(tooLarge());
              return;
            }
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > max) {
                chunks.length = 0;
                req.destroy(tooLarge());
                return;
              }
              chunks.push(chunk);
            });
            res.on('end', () => {
              done();
              resolve({
                status: res.statusCode ?? 0,
                contentType: String(res.headers['content-type'] ?? ''),
                body: Buffer.concat(chunks).toString('utf8'),
              });
            });
            res.on('error', (err) => {
              done();
              reject(this.transportError(err, timedOut, signal));
            });
          });
          req.on('error', (err) => {
            done();
            reject(this.transportError(err, timedOut, signal));
          });
          req.end(body);
        }),
    );
  }

  private transportError(err: Error & { code?: string }, timedOut: boolean, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason;
    if (err instanceof ToolError) return err;
    if (timedOut) {
      return new ToolError(
        ErrorCodes.timeout,
        `prometheus instance "${this.instance}" (${this.displayUrl}) did not answer within ${this.config.timeoutMs} ms`,
        'narrow the query (fewer series, shorter range, larger step), or raise timeoutMs for this instance',
      );
    }
    const code = err.code ?? '';
    if (NETWORK_CODES.has(code)) {
      return new ToolError(
        ErrorCodes.backendUnreachable,
        `cannot reach prometheus instance "${this.instance}" at ${this.displayUrl}: ${code}`,
        'check that Prometheus is running and the url is right (infra-mcp doctor tests every instance)',
      );
    }
    if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/i.test(code) || /certificate/i.test(err.message)) {
      return new ToolError(
        'tls_error',
        `TLS handshake with prometheus instance "${this.instance}" failed: ${err.message}`,
        'set tls.caFile to the CA that signed the server certificate (or tls.serverName), or pin its certificate with tls.fingerprint256; turning verification off (tls.insecureSkipVerify) is a last resort',
      );
    }
    return new ToolError(
      ErrorCodes.backendError,
      `request to prometheus instance "${this.instance}" failed: ${err.message}`,
      'try again; infra-mcp doctor tests connectivity',
    );
  }

  private httpError(raw: RawResponse, path: string): ToolError {
    // redact, then cut: a secret cut in two is no longer recognised
    const snippet = cut(this.redactText(raw.body.replace(/\s+/g, ' ').trim()), 200);
    if (raw.status === 401 || raw.status === 403) {
      return new ToolError(
        'unauthorized',
        `prometheus instance "${this.instance}" refused the credentials (HTTP ${raw.status})${snippet ? `: ${snippet}` : ''}`,
        'check basicAuth / bearerToken / sigv4 / headers of this instance in the config',
      );
    }
    if (raw.status === 404) {
      return new ToolError(
        'not_supported',
        `prometheus instance "${this.instance}" has no ${path} (HTTP 404)`,
        'this backend does not offer this API (AMP, Mimir and Thanos omit some); check the url includes its path prefix',
      );
    }
    return new ToolError(
      ErrorCodes.backendError,
      `prometheus instance "${this.instance}" answered HTTP ${raw.status} for ${path}${snippet ? `: ${snippet}` : ''}`,
      'check the url of this instance; infra-mcp doctor tests connectivity',
    );
  }

  private apiError(
    body: { errorType?: string; error?: string },
    status: number,
    path: string,
    query?: string,
  ): ToolError {
    const message = String(body.error ?? 'unknown error');
    switch (body.errorType) {
      case 'bad_data': {
        if (query !== undefined) {
          const pos = /(\d+):(\d+): parse error: (.*)$/s.exec(message);
          if (pos) {
            const line = Number(pos[1]);
            const col = Number(pos[2]);
            const text = query.split('\n')[line - 1] ?? query;
            const caret = `${' '.repeat(Math.max(0, col - 1))}^`;
            return new ToolError(
              'bad_query',
              `PromQL parse error at line ${line}, column ${col}: ${pos[3]}\n  ${text}\n  ${caret}`,
              'fix the query at the marked position',
              { line, column: col },
            );
          }
          return new ToolError(
            'bad_query',
            `Prometheus rejected the query: ${message.replace(/^invalid parameter "query": /, '')}`,
            'fix the query; label_values and series help find valid names',
          );
        }
        return new ToolError(
          'bad_request',
          `Prometheus rejected the request: ${message}`,
          'fix the arguments named in the message',
        );
      }
      case 'timeout':
        return new ToolError(
          'query_timeout',
          `the query timed out in Prometheus: ${message}`,
          'narrow it: fewer series (label matchers), a shorter range or a larger step',
        );
      case 'canceled':
        return new ToolError(
          ErrorCodes.cancelled,
          `the query was cancelled in Prometheus: ${message}`,
          'try again',
        );
      case 'execution':
        return new ToolError(
          'query_failed',
          `Prometheus could not run the query: ${message}`,
          'narrow it: fewer series (label matchers, topk()), a shorter range or a larger step',
        );
      case 'not_found':
        return new ToolError(
          'not_supported',
          `prometheus instance "${this.instance}": ${message} (${path})`,
          'this backend does not offer this API',
        );
      case 'unavailable':
        return new ToolError(
          ErrorCodes.backendError,
          `Prometheus is unavailable: ${message}`,
          'try again shortly',
        );
      default:
        return new ToolError(
          ErrorCodes.backendError,
          `Prometheus error (HTTP ${status}, ${body.errorType ?? 'unknown'}): ${message}`,
          'check the arguments; try again',
        );
    }
  }
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function formatBytes(n: number): string {
  if (n >= 1 << 20) return `${Number((n / (1 << 20)).toFixed(1))} MiB`;
  if (n >= 1 << 10) return `${Number((n / (1 << 10)).toFixed(1))} KiB`;
  return `${n} B`;
}
