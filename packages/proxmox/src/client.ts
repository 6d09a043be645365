import { AsyncLocalStorage } from 'node:async_hooks';
import type http from 'node:http';
import { type Logger, ToolError } from '@infra-mcp/core';
import { createHttpsAgent } from '@infra-mcp/core/tls';
import { ProxmoxEngine } from 'proxmox-api';
import type { ProxmoxConfig } from './config.js';

/** State of one call into proxmox-api (its retries run inside the same async context). */
interface CallState {
  signal?: AbortSignal;
  /** Requests sent for this call. */
  sent: number;
  /** The network error of a send, when one failed. */
  networkError?: Error;
  /** A non-idempotent request was refused a resend by us. */
  resendRefused?: boolean;
  status?: number;
  statusText?: string;
  body?: string;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

type Params = Record<string, string | number | boolean | string[] | undefined>;

/** Tickets live two hours on PVE; renew a little before. */
const TICKET_TTL_MS = 100 * 60_000;

/** Errors raised before a byte of the request left: no doubt about the outcome. */
const NEVER_SENT = /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH)$/;
/** Certificate verification failures: the handshake failed, nothing was sent. */
const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/;

const idempotent = (method: string) => method === 'GET' || method === 'HEAD';

/**
 * One PVE instance: proxmox-api's engine (token or ticket auth) with its fetch routed through
 * core's TLS agent (CA file, pinned fingerprint), errors mapped to ToolErrors with hints, and no
 * second send of a POST/PUT/DELETE whose connection failed (proxmox-api retries once otherwise).
 */
export class PveClient {
  readonly label: string;
  private readonly engine: ProxmoxEngine;
  private readonly agent: http.Agent;
  private readonly calls = new AsyncLocalStorage<CallState>();
  private ticketAt = 0;

  constructor(
    readonly config: ProxmoxConfig,
    readonly instance: string,
    log?: Logger,
  ) {
    const url = new URL(config.url);
    this.label = `proxmox instance "${instance}" (${url.origin})`;
    const https = url.protocol === 'https:';
    this.agent = https
      ? createHttpsAgent(config.tls, { label: this.label, log, configKey: 'tls' })
      : new (process.getBuiltinModule('node:http') as typeof import('node:http')).Agent({ keepAlive: true });
    const common = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ? Number(url.port) : 8006,
      schema: (https ? 'https' : 'http') as 'https' | 'http',
      queryTimeout: config.timeoutMs,
      authTimeout: config.timeoutMs,
      fetch: this.fetch as never,
    };
    if (config.tokenId && config.tokenSecret)
      this.engine = new ProxmoxEngine({
        ...common,
        tokenID: config.tokenId,
        tokenSecret: config.tokenSecret,
      });
    else if (config.password)
      this.engine = new ProxmoxEngine({
        ...common,
        username: config.username ?? 'root@pam',
        password: config.password,
      });
    else throw new Error(`${this.label}: set tokenId + tokenSecret (preferred) or username + password`);
  }

  close(): void {
    this.agent.destroy();
  }

  get<T = any>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request('GET', path, params, options);
  }
  post<T = any>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request('POST', path, params, options);
  }
  delete<T = any>(path: string, params?: Params, options?: RequestOptions): Promise<T> {
    return this.request('DELETE', path, params, options);
  }

  /** One API call: `path` below /api2/json, e.g. `/nodes/pve1/qemu/100/status/current`. */
  async request<T>(
    method: string,
    path: string,
    params: Params = {},
    options: RequestOptions = {},
  ): Promise<T> {
    const clean = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
    // password auth: renew the ticket before PVE's two hours run out
    if (this.config.password && !this.config.tokenId && Date.now() - this.ticketAt > TICKET_TTL_MS) {
      this.engine.ticket = undefined;
      this.engine.CSRFPreventionToken = undefined;
    }
    const state: CallState = { signal: options.signal, sent: 0 };
    try {
      const hadTicket = this.engine.ticket;
      const data = await this.calls.run(state, () =>
        this.engine.doRequest(method, `/api2/json${path}`, path, clean),
      );
      if (this.engine.ticket !== hadTicket) this.ticketAt = Date.now();
      return data as T;
    } catch (err) {
      throw this.mapError(method, path, state, err);
    }
  }

  private mapError(method: string, path: string, state: CallState, err: unknown): ToolError {
    const where = `${method} ${path}`;
    if (state.networkError) {
      const why = state.networkError.message;
      const code = String((state.networkError as { code?: unknown }).code ?? '');
      if (code === 'tls_error') return state.networkError as ToolError;
      if (!idempotent(method) && state.sent > 0 && !NEVER_SENT.test(code) && !TLS_FAILURE.test(code))
        return new ToolError(
          'outcome_unknown',
          `the connection to ${this.label} failed during ${where} (${why}): the request may or may not have been carried out; it was not retried`,
          `do not repeat it blindly: look for its task in the node's recent tasks (proxmox_tasks with node) and at the guest's state (proxmox_guest), then decide`,
          { request: where, error: why },
        );
      if (TLS_FAILURE.test(code) || /certificate|self.signed/i.test(why))
        return new ToolError(
          'tls_error',
          `TLS verification failed for ${this.label}: ${why}`,
          'trust the server: tls.caFile (its CA) or tls.fingerprint256 (as PVE shows it under Certificates); insecureSkipVerify only knowingly',
        );
      return new ToolError(
        'unreachable',
        `${this.label} cannot be reached: ${why}`,
        'check the url and that the node is up',
      );
    }
    const status = state.status;
    const reason = (state.statusText ?? '').trim();
    if (status === 401)
      return new ToolError(
        'unauthorized',
        `${this.label} refused the credentials (401 ${reason})`,
        this.config.tokenId
          ? 'check tokenId and tokenSecret (pveum user token list)'
          : 'check username and password',
      );
    if (status === 403)
      return new ToolError(
        'forbidden',
        `${where}: ${reason || 'permission denied'}`,
        'grant the needed privilege on that path to the token or user (pveum acl modify <path> --tokens <tokenid> --roles <role>; privilege-separated tokens need their own ACL)',
        { status, reason },
      );
    if (status !== undefined) {
      const text = reason || firstError(state.body) || `HTTP ${status}`;
      if (/does not exist|no such/i.test(text))
        return new ToolError(
          'not_found',
          `${where}: ${text}`,
          'list what exists with proxmox_guests or proxmox_nodes',
        );
      if (/guest agent is not running|agent.*not running/i.test(text))
        return new ToolError(
          'agent_not_running',
          `${where}: ${text}`,
          'start qemu-guest-agent in the guest and enable it in the VM options (agent: 1)',
        );
      if (status === 595 || /no route|connection refused|timed out/i.test(text))
        return new ToolError(
          'node_unreachable',
          `${where}: ${text}`,
          'the node may be offline: see proxmox_nodes and proxmox_cluster',
        );
      return new ToolError(
        'pve_error',
        `${where}: ${status} ${text}`,
        'see the message; proxmox_tasks shows task logs',
      );
    }
    return new ToolError('pve_error', `${where}: ${(err as Error).message}`, 'see the message');
  }

  /** proxmox-api's fetch: node:https through core's TLS agent; one send per non-idempotent call. */
  private readonly fetch = async (url: string | URL, init: any = {}): Promise<Response> => {
    const state = this.calls.getStore() ?? { sent: 0 };
    const method = String(init.method ?? 'GET').toUpperCase();
    if (state.networkError && !idempotent(method) && state.sent > 0) {
      state.resendRefused = true;
      throw new Error('not retried: the first send of this non-idempotent request failed');
    }
    state.sent++;
    const signal = AbortSignal.any([init.signal, state.signal].filter(Boolean) as AbortSignal[]);
    const u = new URL(String(url));
    const mod = (
      u.protocol === 'https:' ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http')
    ) as typeof import('node:https');
    try {
      const res = await new Promise<{ status: number; statusText: string; headers: Headers; body: Buffer }>(
        (resolve, reject) => {
          const req = mod.request(
            u,
            { method, headers: init.headers, agent: this.agent as never, signal },
            (r) => {
              const chunks: Buffer[] = [];
              r.on('data', (c: Buffer) => chunks.push(c));
              r.on('error', reject);
              r.on('aborted', () => reject(new Error('connection closed mid-answer')));
              r.on('end', () => {
                const headers = new Headers();
                for (const [k, v] of Object.entries(r.headers)) if (typeof v === 'string') headers.set(k, v);
                resolve({
                  status: r.statusCode ?? 0,
                  statusText: r.statusMessage ?? '',
                  headers,
                  body: Buffer.concat(chunks),
                });
              });
            },
          );
          req.on('error', reject);
          req.end(init.body);
        },
      );
      state.status = res.status;
      state.statusText = res.statusText;
      state.body = res.body.toString('utf8', 0, Math.min(res.body.length, 4096));
      return new Response(res.status === 204 ? null : new Uint8Array(res.body), {
        status: res.status,
        statusText: res.statusText.replace(/[^\t\x20-\x7e]/g, '?'),
        headers: res.headers,
      });
    } catch (err) {
      state.networkError = err as Error;
      throw err;
    }
  };
}

function firstError(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const j = JSON.parse(body);
    if (j?.errors) return typeof j.errors === 'string' ? j.errors : JSON.stringify(j.errors);
    if (typeof j?.message === 'string') return j.message;
  } catch {}
  return undefined;
}
