import type { Logger } from './log.js';
import type { Plan } from './plugin.js';

/** A dry run's plan, kept in this process until its approval is used or expires. */
export interface HeldPlan {
  /** The approval token's id. */
  id: string;
  tool: string;
  /** Change hash the token is bound to. */
  hash: string;
  /** The token itself, to repeat it on further pages of a long preview. */
  token?: string;
  plan: Plan;
  expiresAt: number;
  discard?: (handle: unknown) => Promise<void> | void;
}

/**
 * Plans (and their server-held handles) by approval id. Bounded: past `max` entries the oldest is
 * dropped (its handle discarded; an approval of it then re-plans and compares). A handle is discarded
 * exactly once: when its approval is used, when it expires, or at shutdown.
 */
export class HeldPlans {
  private readonly plans = new Map<string, HeldPlan & { timer: NodeJS.Timeout }>();

  constructor(
    private readonly log: Logger,
    private readonly max = 256,
    private readonly now: () => number = Date.now,
  ) {}

  hold(entry: HeldPlan): void {
    while (this.plans.size >= this.max) this.drop(this.plans.keys().next().value!);
    const timer = setTimeout(() => this.drop(entry.id), Math.max(0, entry.expiresAt - this.now()));
    timer.unref();
    this.plans.set(entry.id, { ...entry, timer });
  }

  get(id: string): HeldPlan | undefined {
    return this.plans.get(id);
  }

  /** Take the plan out (it is being executed); the caller discards its handle when done. */
  take(id: string): HeldPlan | undefined {
    const entry = this.plans.get(id);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    this.plans.delete(id);
    return entry;
  }

  /** Forget a plan and discard its handle. */
  drop(id: string): void {
    const entry = this.take(id);
    if (entry) void release(entry, this.log);
  }

  get size(): number {
    return this.plans.size;
  }

  async close(): Promise<void> {
    const all = [...this.plans.keys()].map((id) => this.take(id)!);
    await Promise.all(all.map((e) => release(e, this.log)));
  }
}

/** Call the tool's `discard` for a plan's handle; failures are logged, never thrown. */
export async function release(
  entry: Pick<HeldPlan, 'tool' | 'plan' | 'discard'>,
  log: Logger,
): Promise<void> {
  if (entry.plan.handle === undefined || !entry.discard) return;
  try {
    await entry.discard(entry.plan.handle);
  } catch (err) {
    log.warn(`${entry.tool}: discarding a plan's handle failed: ${(err as Error).message}`);
  }
}
