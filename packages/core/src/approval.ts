import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { ErrorCodes, ToolError } from './errors.js';
import { canonicalJson, sha256 } from './hash.js';
import type { HealthReport } from './plugin.js';

/**
 * Remembers which approval tokens were used, so each executes its change once. Single use holds
 * among everyone sharing one store: the in-memory default holds it within one process (tokens are
 * bound to that process: a restart or another replica refuses them); a shared store (Redis,
 * DynamoDB) makes it hold across replicas and restarts.
 */
export interface ApprovalStore {
  /**
   * What the store's memory covers. Tokens carry it and are refused by a store with another scope:
   * a per-process id for process memory, a stable name for a shared store.
   */
  readonly scope: string;
  /**
   * Mark token `id` used. Resolves false when it was used already. Must be atomic for everyone
   * sharing the store (e.g. Redis `SET NX PX`). The entry may be forgotten after `expiresAt` (ms).
   */
  consume(id: string, expiresAt: number): Promise<boolean>;
  /** Whether token `id` was used already (to say so before re-planning); consume stays the authority. */
  used?(id: string): Promise<boolean>;
  /** Whether a shared store can be reached now (/readyz, `infra-mcp doctor`). */
  health?(): Promise<HealthReport>;
  close?(): Promise<void>;
}

/** Used tokens in this process's memory, until they expire. Tokens do not survive a restart. */
export class MemoryApprovalStore implements ApprovalStore {
  readonly scope = `process:${randomUUID()}`;
  private readonly spent = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  async consume(id: string, expiresAt: number): Promise<boolean> {
    const now = this.now();
    // entries go in roughly in expiry order (one lifetime for all tokens): drop from the oldest and
    // stop at the first one still valid, so a use costs O(expired), not O(every token in 10 minutes)
    for (const [key, expiry] of this.spent) {
      if (expiry >= now) break;
      this.spent.delete(key);
    }
    if (this.spent.has(id)) return false;
    this.spent.set(id, expiresAt);
    return true;
  }

  async used(id: string): Promise<boolean> {
    return this.spent.has(id);
  }
}

export interface ApprovalOptions {
  /**
   * HMAC key for approval tokens. Give the same secret to every replica behind a load balancer
   * (with a shared `store`); a random per-process key is used when absent.
   */
  secret?: string;
  /** Token lifetime in seconds (default 600). */
  ttlSeconds?: number;
  /** 'token' (default): two calls. 'elicit': ask the human through the client when it supports elicitation. */
  mode?: 'token' | 'elicit';
  /** Where used tokens are remembered (default: this process's memory). */
  store?: ApprovalStore;
  /** Clock (tests). */
  now?: () => number;
}

/** What a valid token says. */
export interface ApprovalClaim {
  /** The token's id: one id per dry run; the held plan and single use are keyed by it. */
  id: string;
  tool: string;
  instance: string;
  hash: string;
  expiresAt: number;
}

interface Payload {
  t: string; // tool
  i: string; // instance
  h: string; // change hash
  e: number; // expiry (unix ms)
  c: string; // caller ('' when unauthenticated)
  n: string; // id (nonce)
  s: string; // store scope
}

function alreadyUsed(): ToolError {
  return new ToolError(
    ErrorCodes.approvalInvalid,
    'approval token was already used; a token executes its change once',
    'call the tool again without `approval` to preview and approve a new change',
  );
}

/** Hash of exactly what would be executed: tool, instance, arguments and the planned change. */
export function changeHash(tool: string, instance: string, args: unknown, change: unknown): string {
  return sha256(canonicalJson({ tool, instance, args, change }));
}

/**
 * Approval tokens: HMAC-signed, bound to tool, instance, caller, the hash of the exact change and
 * the approval store, expiring, and single-use. `check` verifies without spending; `consume` spends,
 * right before the change runs, so a refused execution (stale plan, audit down) keeps its token.
 */
export class Approvals {
  readonly ttlMs: number;
  readonly store: ApprovalStore;
  private readonly key: Buffer;
  private readonly now: () => number;

  constructor(options: ApprovalOptions = {}) {
    this.key = options.secret ? Buffer.from(options.secret) : randomBytes(32);
    this.ttlMs = (options.ttlSeconds ?? 600) * 1000;
    this.now = options.now ?? Date.now;
    this.store = options.store ?? new MemoryApprovalStore(this.now);
  }

  issue(tool: string, instance: string, hash: string, caller = ''): ApprovalClaim & { token: string } {
    const payload: Payload = {
      t: tool,
      i: instance,
      h: hash,
      e: this.now() + this.ttlMs,
      c: caller,
      n: randomBytes(12).toString('base64url'),
      s: this.store.scope,
    };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return {
      token: `${body}.${this.sign(body)}`,
      id: payload.n,
      tool,
      instance,
      hash,
      expiresAt: payload.e,
    };
  }

  /**
   * The claim of a token that is ours, unexpired, for this tool, instance and caller. Throws a
   * ToolError saying what is wrong otherwise. Does not compare the change and does not spend the token.
   */
  read(token: string, tool: string, instance: string, caller = ''): ApprovalClaim {
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
    if (payload.e < this.now()) {
      throw new ToolError(
        ErrorCodes.approvalExpired,
        `approval token expired at ${new Date(payload.e).toISOString()}`,
        'call the tool again without `approval` to preview the change again',
      );
    }
    if (payload.s !== this.store.scope) {
      throw new ToolError(
        ErrorCodes.approvalInvalid,
        'approval token was issued before this server restarted (or by another replica): without a shared approval store, single use is only guaranteed within the process that issued it',
        'call the tool again without `approval` to preview the change again',
      );
    }
    return { id: payload.n, tool, instance, hash: payload.h, expiresAt: payload.e };
  }

  /** Throws `stale_plan` unless the token's change is exactly `hash`. */
  static same(claim: ApprovalClaim, hash: string): void {
    if (claim.hash !== hash) {
      throw new ToolError(
        ErrorCodes.stalePlan,
        'the change is no longer the one that was previewed (arguments or the backend state changed since the dry run); nothing was executed',
        'call the tool again without `approval`, review the new preview, then approve it',
      );
    }
  }

  /** Spend the token; throws when it was spent already. */
  async consume(claim: ApprovalClaim): Promise<void> {
    if (!(await this.store.consume(claim.id, claim.expiresAt))) throw alreadyUsed();
  }

  /** Throws when the store knows the token was spent (checked before planning again). */
  async unused(claim: ApprovalClaim): Promise<void> {
    if (await this.store.used?.(claim.id)) throw alreadyUsed();
  }

  /** Read, compare and spend in one step (tools without a held plan; tests). */
  async check(token: string, tool: string, instance: string, hash: string, caller = ''): Promise<void> {
    const claim = this.read(token, tool, instance, caller);
    Approvals.same(claim, hash);
    await this.consume(claim);
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}
