/**
 * The API client of one instance: credentials and TLS from the kubeconfig through
 * @kubernetes/client-node (imported here, lazily, at the instance's first use), requests over
 * node:https, answers and Status errors mapped to ToolErrors.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { ToolError } from '@infra-mcp/core';
import type { KubeConfig } from '@kubernetes/client-node';
import type { K8sConfig } from './config.js';
import { kubeconfigPath } from './kubeconfig.js';

export type Obj = Record<string, any>;

export interface RequestInit {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  /** Answer as text (pods/log). */
  text?: boolean;
}

export class KubeClient {
  private constructor(
    readonly server: string,
    readonly context: string,
    readonly namespace: string,
    private readonly base: RequestOptions,
    private readonly timeoutMs: number,
    private readonly redact: (s: string) => string,
    /** The loaded kubeconfig: credentials and TLS for streams (exec) that client-node opens itself. */
    readonly kubeConfig: KubeConfig,
  ) {}

  /** Text scrubbed of this plugin's secrets (known values, credential patterns): before it is cut. */
  scrub(text: string): string {
    return this.redact(text);
  }

  static async create(
    config: K8sConfig,
    io: { secret(v: string | undefined): void; redact(s: string): string },
  ): Promise<KubeClient> {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    if (config.inCluster) kc.loadFromCluster();
    else {
      const path = kubeconfigPath(config);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new ToolError(
          'not_configured',
          `cannot read kubeconfig ${path}: ${(err as Error).message}`,
          'set kubeconfig (or KUBECONFIG) to a readable file',
        );
      }
      kc.loadFromString(text);
      if (config.context) kc.setCurrentContext(config.context);
    }
    const user = kc.getCurrentUser();
    for (const v of [
      user?.token,
      user?.password,
      user?.keyData,
      user?.authProvider?.config?.['access-token'],
    ])
      io.secret(v);
    const cluster = kc.getCurrentCluster();
    if (!cluster)
      throw new ToolError(
        'not_configured',
        `kubeconfig context "${kc.getCurrentContext()}" names no cluster`,
        'fix the kubeconfig',
      );
    const base: RequestOptions = { headers: {} };
    await kc.applyToHTTPSOptions(base);
    const auth = (base.headers as Record<string, string>).Authorization;
    if (auth) io.secret(auth.replace(/^Bearer\s+/, ''));
    const ns = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
    return new KubeClient(cluster.server, kc.getCurrentContext(), ns, base, config.timeoutMs, io.redact, kc);
  }

  async get<T = Obj>(path: string, init: RequestInit = {}): Promise<T> {
    return (await this.request('GET', path, init)) as T;
  }

  async request(method: string, path: string, init: RequestInit = {}): Promise<any> {
    const url = new URL(this.server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(init.query ?? {}))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const body =
      init.body === undefined
        ? undefined
        : typeof init.body === 'string'
          ? init.body
          : JSON.stringify(init.body);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = {
      ...(this.base.headers as Record<string, string>),
      accept: init.accept ?? 'application/json',
      // an explicit length: node sends a DELETE body neither chunked nor with a length otherwise
      ...(body !== undefined
        ? {
            'content-type': init.contentType ?? 'application/json',
            'content-length': String(Buffer.byteLength(body)),
          }
        : {}),
    };
    const signal = init.signal
      ? AbortSignal.any([init.signal, AbortSignal.timeout(this.timeoutMs)])
      : AbortSignal.timeout(this.timeoutMs);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(url, { ...this.base, method, headers, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    }).catch((err: Error & { code?: string }) => {
      if (err.name === 'AbortError' && init.signal?.aborted) throw err;
      throw new ToolError(
        'backend_unreachable',
        `cannot reach the API server of context "${this.context}" (${this.server}): ${this.redact(err.code ?? err.message)}`,
        'check that the cluster is up and the kubeconfig server address is right (k8s_contexts lists them)',
      );
    });
    if (status >= 200 && status < 300) return init.text ? text : text ? JSON.parse(text) : {};
    throw this.statusError(status, text);
  }

  /** A ToolError for an API answer that is not 2xx (the body a metav1.Status, or any text). */
  statusError(status: number, text: string): ToolError {
    let s: Obj = {};
    try {
      s = JSON.parse(text);
    } catch {}
    const message = this.redact(String(s.message ?? text).slice(0, 2000));
    const details = { status, reason: s.reason, ...(s.details?.causes ? { causes: s.details.causes } : {}) };
    switch (status) {
      case 401:
        return new ToolError(
          'unauthorized',
          `the API server of context "${this.context}" refused the credentials (401 Unauthorized)`,
          'the kubeconfig token or certificate may have expired: log in again (refresh the kubeconfig) and retry',
          details,
        );
      case 403:
        return new ToolError(
          'forbidden',
          message,
          'k8s_can_i shows what this identity may do; ask for the RBAC permission',
          details,
        );
      case 404:
        return new ToolError(
          'not_found',
          message,
          'check the name and namespace (k8s_list shows what exists)',
          details,
        );
      case 409:
        return new ToolError(
          'conflict',
          message,
          'the object changed or exists already: read it again (k8s_get) and retry',
          details,
        );
      case 422:
        return new ToolError('invalid', message, 'fix the fields named in details.causes', details);
      default:
        return new ToolError(
          'backend_error',
          `API server answered ${status}: ${message}`,
          'retry later, or narrow the request',
          details,
        );
    }
  }
}
