import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, ToolError } from './errors.js';
import { canonicalJson, sha256 } from './hash.js';

export interface ApprovalOptions {
  /**
   * HMAC key for approval tokens. Give the same secret to every replica behind a load balancer;
   * a random per-process key is used when absent.
   */
  secret?: string;
  /** Token lifetime in seconds (default 600). */
  ttlSeconds?: number;
  /** 'token' (default): two calls. 'elicit': ask the human through the client when it supports elicitation. */
  mode?: 'token' | 'elicit';
}

interface Payload {
  t: string; // tool
  i: string; // instance
  h: string; // change hash
  e: number; // expiry (unix ms)
  c: string; // caller ('' when unauthenticated)
  n: string; // nonce: a token executes once
}

/** Hash of exactly what would be executed: tool, instance, arguments and the planned change. */
export function changeHash(tool: string, instance: string, args: unknown, change: unknown): string {
  return sha256(canonicalJson({ tool, instance, args, change }));
}

/**
 * Approval tokens: HMAC-signed, bound to tool, instance, caller and the hash of the exact change,
 * expiring, and single-use. Used nonces are remembered in this process until their token expires;
 * replicas behind a load balancer share the signing secret but not that memory, so route a caller's
 * approvals to one replica (sticky sessions) where replay across replicas matters.
 */
export class Approvals {
  readonly ttlMs: number;
  private readonly key: Buffer;
  private readonly used = new Map<string, number>(); // nonce -> expiry

  constructor(options: ApprovalOptions = {}) {
    this.key = options.secret ? Buffer.from(options.secret) : randomBytes(32);
    this.ttlMs = (options.ttlSeconds ?? 600) * 1000;
  }

  issue(
    tool: string,
    instance: string,
    hash: string,
    caller = '',
    now = Date.now(),
  ): { token: string; expiresAt: string } {
    const payload: Payload = {
      t: tool,
      i: instance,
      h: hash,
      e: now + this.ttlMs,
      c: caller,
      n: randomBytes(12).toString('base64url'),
    };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return { token: `${body}.${this.sign(body)}`, expiresAt: new Date(payload.e).toISOString() };
  }

  /**
   * Throws ToolError unless the token is ours, unexpired, unused, for this tool, instance and caller
   * and this exact change. A token that passes is spent.
   */
  check(token: string, tool: string, instance: string, hash: string, caller = '', now = Date.now()): void {
    const [body, mac] = token.split('.');
    const expected = body ? this.sign(body) : '';
    if (
      !body ||
      !mac ||
      mac.length !== expected.length ||
      !timingSafeEqual(Buffer.from(mac), Buffer.from(expected))
    ) {
      throw new ToolError(
        ErrorCodes.approvalInvalid,
        'approval token is not valid for this server',
        'call the tool again without `approval` to get a fresh preview and token',
      );
    }
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
    if (payload.t !== tool || payload.i !== instance) {
      throw new ToolError(
        ErrorCodes.approvalInvalid,
        `approval token was issued for ${payload.t} on instance ${payload.i}`,
        'use the token with the same tool and instance it was issued for',
      );
    }
    if ((payload.c ?? '') !== caller) {
      throw new ToolError(
        ErrorCodes.approvalInvalid,
        'approval token was issued to another caller',
        'each caller previews and approves its own changes: call the tool again without `approval`',
      );
    }
    if (payload.e < now) {
      throw new ToolError(
        ErrorCodes.approvalExpired,
        `approval token expired at ${new Date(payload.e).toISOString()}`,
        'call the tool again without `approval` to preview the change again',
      );
    }
    if (payload.h !== hash) {
      throw new ToolError(
        ErrorCodes.stalePlan,
        'the change is no longer the one that was previewed (arguments or the backend state changed since the dry run); nothing was executed',
        'call the tool again without `approval`, review the new preview, then approve it',
      );
    }
    for (const [nonce, expiry] of this.used) if (expiry < now) this.used.delete(nonce);
    if (this.used.has(payload.n)) {
      throw new ToolError(
        ErrorCodes.approvalInvalid,
        'approval token was already used; a token executes its change once',
        'call the tool again without `approval` to preview and approve a new change',
      );
    }
    this.used.set(payload.n, payload.e);
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
