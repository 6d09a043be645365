/**
 * The Argo CD REST client: only the configured base URL, the token as a bearer header, bounded
 * answers; backend 4xx/5xx are ToolErrors carrying Argo CD's message (never successes).
 */
import { request as httpRequest } from 'node:http';
import { type Agent, request as httpsRequest } from 'node:https';
import { type Backend, type Logger, type ToolCtx, ToolError, toolkit } from '@infra-mcp/core';
import { createHttpsAgent } from '@infra-mcp/core/tls';
import type { ArgocdConfig } from './config.js';

export type Query = [string, string][];

export class ArgocdClient {
  private readonly base: URL;
  private readonly agent?: Agent;
  constructor(
    readonly config: ArgocdConfig,
    instance: string,
    log: Logger,
    private readonly redact: (t: string) => string,
    /** core's backend of this instance: spans, circuit breaker, retries of GETs. */
    private readonly backend?: Backend,
  ) {
    this.base = new URL(config.url.endsWith('/') ? config.url : `${config.url}/`);
    if (this.base.protocol === 'https:')
      this.agent = createHttpsAgent(config.tls, {
        label: `argocd instance "${instance}" (${config.url})`,
        log,
      });
  }

  /** `path` is relative to /api/v1/ (e.g. `applications/x/sync`); each segment encoded by the caller. */
  async api<T>(
    method: 'GET' | 'POST',
    path: string,
    opts: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    const url = new URL(`api/v1/${path}`, this.base);
    for (const [k, v] of opts.query ?? []) url.searchParams.append(k, v);
    const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const once = () =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const r = req(
          url,
          {
            method,
            agent: this.agent,
            headers: {
              accept: 'application/json',
              ...(this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}),
              ...(body
                ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
                : {}),
            },
            signal: opts.signal,
            timeout: this.config.timeoutMs,
          },
          (res) => {
            const chunks: Buffer[] = [];
            let n = 0;
            res.on('data', (c: Buffer) => {
              n += c.length;
              if (n > this.config.maxResponseBytes) {
                res.destroy();
                reject(
                  new ToolError(
                    'output_too_large',
                    `Argo CD answered over ${this.config.maxResponseBytes} bytes`,
                    'narrow the request',
                  ),
                );
              } else chunks.push(c);
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
            );
            res.on('error', reject);
          },
        );
        r.on('timeout', () => r.destroy(new Error(`no answer within ${this.config.timeoutMs} ms`)));
        r.on('error', (e) =>
          reject(
            e instanceof ToolError
              ? e
              : new ToolError(
                  'backend_unreachable',
                  `Argo CD at ${this.base.origin} unreachable: ${this.redact(e.message)}`,
                  'check plugins.argocd.url',
                ),
          ),
        );
        if (body) r.write(body);
        r.end();
      });
    const { status, text } = this.backend
      ? await this.backend.request(
          { method, target: url.pathname, signal: opts.signal, status: (a) => a.status },
          once,
        )
      : await once();
    if (status < 200 || status > 299) {
      let message = text.slice(0, 500);
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        // not JSON: keep the snippet
      }
      const code =
        status === 404
          ? 'not_found'
          : status === 401 || status === 403
            ? 'unauthorized'
            : status === 400
              ? 'bad_request'
              : 'backend_error';
      throw new ToolError(
        code,
        `Argo CD answered ${status} to ${method} /api/v1/${path.split('?')[0]}: ${this.redact(message)}`,
        status === 404
          ? 'check the name with argocd_apps'
          : status === 401 || status === 403
            ? 'check plugins.argocd.token'
            : 'fix the request as the message says',
      );
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ToolError(
        'backend_error',
        `Argo CD answered ${status} with a body that is not JSON`,
        'check plugins.argocd.url',
      );
    }
  }
}

export const tool = toolkit<ArgocdClient, ArgocdConfig>();
export type Ctx = ToolCtx<ArgocdClient, ArgocdConfig>;

export const seg = (s: string) => encodeURIComponent(s);
