import { randomBytes } from 'node:crypto';
import {
  type CallToolResult,
  ErrorCode,
  McpError,
  RELATED_TASK_META_KEY,
  type Task,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from './log.js';
import type { HealthReport } from './plugin.js';

/**
 * MCP tasks (2025-11-25, experimental) for long tool calls: a client that sends `tools/call` with a
 * `task` gets a task at once, then polls `tasks/get`, reads `tasks/result`, may `tasks/cancel`.
 * The call itself runs through the same pipeline as any other; only where its answer goes differs.
 */

/** One task as kept in a store: the protocol's Task, whom it belongs to, and its answer once there. */
export interface StoredTask {
  task: Task;
  /** The caller it belongs to: another caller's task id is "not found". */
  owner: string;
  /** Epoch ms after which the task and its result may be gone. */
  expiresAt: number;
  /** The tools/call result (also for a cancelled task: what the call answered after the cancel). */
  result?: CallToolResult;
  /** The call ended with a JSON-RPC error instead of a result (tasks/result answers with it). */
  error?: { code: number; message: string };
}

/**
 * Where task state lives. In memory by default (one process); a shared implementation (Redis,
 * DynamoDB) lets any replica answer tasks/get for a task another one runs.
 */
export interface TaskStore {
  /** Keep a new task; false when the store is full of tasks that are still running. */
  create(entry: StoredTask): Promise<boolean>;
  /** A task by id, or undefined when unknown or expired. */
  get(taskId: string): Promise<StoredTask | undefined>;
  /** Change a task atomically (read, change, write); undefined when unknown or expired. */
  update(taskId: string, change: (entry: StoredTask) => StoredTask): Promise<StoredTask | undefined>;
  /** One owner's tasks, oldest first, a page at a time. */
  list(
    owner: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ tasks: StoredTask[]; nextCursor?: string }>;
  /**
   * True when other processes change the store too (Redis, DynamoDB): a tasks/cancel answered by
   * another replica is then seen by polling the tasks this process runs, every poll interval.
   */
  readonly shared?: boolean;
  /** Whether a shared store can be reached now (/readyz, `infra-mcp doctor`). */
  health?(): Promise<HealthReport>;
  /** Release a connection (a shared store); called when the server closes. */
  close?(): Promise<void>;
}

export interface MemoryTaskStoreOptions {
  /** Tasks kept at once (default 1000): the oldest finished ones make room; running ones are never dropped. */
  maxTasks?: number;
  now?: () => number;
}

/** The default store: bounded, expired tasks dropped as they are met. */
export class MemoryTaskStore implements TaskStore {
  private readonly tasks = new Map<string, StoredTask>();
  private readonly max: number;
  private readonly now: () => number;

  constructor(options: MemoryTaskStoreOptions = {}) {
    this.max = options.maxTasks ?? 1000;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.tasks.size;
  }

  async create(entry: StoredTask): Promise<boolean> {
    this.sweep();
    if (this.tasks.size >= this.max) {
      const oldestDone = [...this.tasks.values()].find((t) => isTerminal(t.task.status));
      if (!oldestDone) return false;
      this.tasks.delete(oldestDone.task.taskId);
    }
    this.tasks.set(entry.task.taskId, structuredClone(entry));
    return true;
  }

  async get(taskId: string): Promise<StoredTask | undefined> {
    const entry = this.live(taskId);
    return entry && structuredClone(entry);
  }

  async update(taskId: string, change: (entry: StoredTask) => StoredTask): Promise<StoredTask | undefined> {
    const entry = this.live(taskId);
    if (!entry) return undefined;
    const next = change(structuredClone(entry));
    this.tasks.set(taskId, structuredClone(next));
    return next;
  }

  async list(owner: string, cursor: string | undefined, limit: number) {
    this.sweep();
    const mine = [...this.tasks.values()].filter((t) => t.owner === owner);
    const start = cursor ? mine.findIndex((t) => t.task.taskId === cursor) + 1 : 0;
    const page = mine.slice(start, start + limit);
    const more = start + limit < mine.length;
    return {
      tasks: page.map((t) => structuredClone(t)),
      ...(more && page.length ? { nextCursor: page.at(-1)!.task.taskId } : {}),
    };
  }

  private live(taskId: string): StoredTask | undefined {
    const entry = this.tasks.get(taskId);
    if (entry && this.expired(entry)) {
      this.tasks.delete(taskId);
      return undefined;
    }
    return entry;
  }

  private expired(entry: StoredTask): boolean {
    // a running task stays until it ends (its answer is what the caller is waiting for)
    return isTerminal(entry.task.status) && entry.expiresAt <= this.now();
  }

  private sweep(): void {
    for (const [id, entry] of this.tasks) if (this.expired(entry)) this.tasks.delete(id);
  }
}

export interface TaskOptions {
  /** Where task state lives (default: in memory, bounded). */
  store?: TaskStore;
  /** How long a task and its result are kept when the client asks for no ttl (default 1 h). */
  defaultTtlMs?: number;
  /** The longest ttl a client may ask for (default 24 h). */
  maxTtlMs?: number;
  /** The poll interval suggested to clients (default 1000 ms). */
  pollIntervalMs?: number;
}

/** What a task's call gets: the cancel signal, and a way to say what it is doing. */
export interface TaskControl {
  taskId: string;
  signal: AbortSignal;
  /** When the task's time is up (epoch ms): a long operation still going then answers "still running". */
  deadline: number;
  /** The task's status and status message (none when `message` is absent). */
  status(status: 'working' | 'input_required', message?: string): void;
}

const MAX_STATUS_MESSAGE = 300;
const LIST_PAGE = 50;
/** A task that ends after its ttl keeps its answer at least this long. */
const MIN_KEEP_AFTER_END_MS = 60_000;

export const isTerminal = (status: Task['status']): boolean =>
  status === 'completed' || status === 'failed' || status === 'cancelled';

const notFound = (taskId: string) =>
  new McpError(ErrorCode.InvalidParams, `Task not found: ${taskId.slice(0, 100)}`);

/** Starts calls as tasks and answers tasks/get, tasks/result, tasks/list and tasks/cancel. */
export class Tasks {
  readonly store: TaskStore;
  private readonly defaultTtl: number;
  private readonly maxTtl: number;
  readonly pollInterval: number;
  /** Calls running in this process, by task id: tasks/cancel aborts them. */
  private readonly running = new Map<string, AbortController>();
  private readonly runs = new Set<Promise<void>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Polls a shared store for cancels made on another replica, while calls run here. */
  private cancelWatch?: NodeJS.Timeout;
  private pollingCancels = false;

  constructor(
    options: TaskOptions = {},
    private readonly log?: Logger,
  ) {
    this.store = options.store ?? new MemoryTaskStore();
    this.defaultTtl = options.defaultTtlMs ?? 3_600_000;
    this.maxTtl = options.maxTtlMs ?? 86_400_000;
    this.pollInterval = options.pollIntervalMs ?? 1000;
  }

  /** Create a task for `owner` and run `call` in the background; answers with the task at once. */
  async start(
    owner: string,
    requestedTtl: number | undefined,
    call: (control: TaskControl) => Promise<CallToolResult>,
  ): Promise<Task> {
    const ttl = Math.max(1000, Math.min(requestedTtl ?? this.defaultTtl, this.maxTtl));
    const now = Date.now();
    const at = new Date(now).toISOString();
    const task: Task = {
      taskId: randomBytes(18).toString('base64url'),
      status: 'working',
      ttl,
      createdAt: at,
      lastUpdatedAt: at,
      pollInterval: this.pollInterval,
    };
    const kept = await this.store.create({ task, owner, expiresAt: now + ttl });
    if (!kept)
      throw new McpError(
        ErrorCode.InternalError,
        'Too many tasks are running on this server; wait for some to finish, or call without a task',
      );
    const controller = new AbortController();
    this.running.set(task.taskId, controller);
    const control: TaskControl = {
      taskId: task.taskId,
      signal: controller.signal,
      deadline: now + ttl,
      status: (status, message) => {
        this.set(task.taskId, (e) =>
          isTerminal(e.task.status)
            ? e
            : {
                ...e,
                task: {
                  ...withoutMessage(e.task),
                  status,
                  ...(message ? { statusMessage: message.slice(0, MAX_STATUS_MESSAGE) } : {}),
                },
              },
        ).catch((err) =>
          this.log?.warn(`tasks: status of ${task.taskId} not kept: ${(err as Error).message}`),
        );
      },
    };
    const run = this.run(task.taskId, call, control).finally(() => {
      this.running.delete(task.taskId);
      this.runs.delete(run);
      if (this.running.size === 0) this.stopCancelWatch();
    });
    this.runs.add(run);
    if (this.store.shared && !this.cancelWatch) {
      this.cancelWatch = setInterval(() => void this.pollCancels(), this.pollInterval);
      this.cancelWatch.unref();
    }
    return task;
  }

  /** A task this process runs, cancelled through another replica: abort its call here. */
  private async pollCancels(): Promise<void> {
    if (this.pollingCancels) return;
    this.pollingCancels = true;
    try {
      for (const [taskId, controller] of this.running) {
        if (controller.signal.aborted) continue;
        const entry = await this.store.get(taskId).catch((err: Error) => {
          this.log?.warn(`tasks: cannot read ${taskId} to see whether it was cancelled: ${err.message}`);
          return undefined;
        });
        if (entry?.task.status === 'cancelled')
          controller.abort(new Error('the task was cancelled by the client'));
      }
    } finally {
      this.pollingCancels = false;
    }
  }

  private stopCancelWatch(): void {
    clearInterval(this.cancelWatch);
    this.cancelWatch = undefined;
  }

  private async run(
    taskId: string,
    call: (control: TaskControl) => Promise<CallToolResult>,
    control: TaskControl,
  ): Promise<void> {
    let outcome: Pick<StoredTask, 'result' | 'error'>;
    try {
      outcome = { result: await call(control) };
    } catch (err) {
      outcome = {
        error:
          err instanceof McpError
            ? { code: err.code, message: err.message }
            : { code: ErrorCode.InternalError, message: (err as Error).message },
      };
    }
    const ended = Date.now();
    try {
      await this.set(taskId, (e) => {
        const failed = outcome.error !== undefined || outcome.result?.isError === true;
        const status = isTerminal(e.task.status) ? e.task.status : failed ? 'failed' : 'completed';
        const statusMessage =
          status === 'cancelled'
            ? e.task.statusMessage
            : failed
              ? firstLine(outcome.error?.message ?? textOf(outcome.result))
              : undefined;
        return {
          ...e,
          ...outcome,
          expiresAt: Math.max(e.expiresAt, ended + MIN_KEEP_AFTER_END_MS),
          task: { ...withoutMessage(e.task), status, ...(statusMessage ? { statusMessage } : {}) },
        };
      });
    } catch (err) {
      this.log?.error(`tasks: the result of ${taskId} could not be kept: ${(err as Error).message}`);
    }
  }

  /** tasks/get */
  async get(taskId: string, owner: string): Promise<Task> {
    return (await this.mine(taskId, owner)).task;
  }

  /** tasks/result: waits until the call has answered, then returns its result (or its JSON-RPC error). */
  async result(taskId: string, owner: string, signal: AbortSignal): Promise<CallToolResult> {
    for (;;) {
      const entry = await this.mine(taskId, owner);
      if (entry.error) throw new McpError(entry.error.code, entry.error.message);
      if (entry.result)
        return {
          ...entry.result,
          _meta: { ...entry.result._meta, [RELATED_TASK_META_KEY]: { taskId } },
        };
      await this.changed(taskId, signal);
    }
  }

  /** tasks/list: the caller's own tasks. */
  async list(owner: string, cursor: string | undefined): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const page = await this.store.list(owner, cursor, LIST_PAGE);
    return {
      tasks: page.tasks.map((t) => t.task),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  }

  /**
   * tasks/cancel: the task is cancelled and its call's signal aborted. An approved change that had
   * already taken effect stays done: tasks/result tells what the call answered.
   */
  async cancel(taskId: string, owner: string): Promise<Task> {
    const entry = await this.mine(taskId, owner);
    if (isTerminal(entry.task.status))
      throw new McpError(
        ErrorCode.InvalidParams,
        `Cannot cancel task in terminal status: ${entry.task.status}`,
      );
    const updated = await this.set(taskId, (e) =>
      isTerminal(e.task.status)
        ? e
        : { ...e, task: { ...e.task, status: 'cancelled', statusMessage: 'cancelled by the client' } },
    );
    if (!updated) throw notFound(taskId);
    if (updated.task.status !== 'cancelled')
      throw new McpError(
        ErrorCode.InvalidParams,
        `Cannot cancel task in terminal status: ${updated.task.status}`,
      );
    this.running.get(taskId)?.abort(new Error('the task was cancelled by the client'));
    return updated.task;
  }

  /** Tasks whose calls run in this process. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Shutdown: the calls of running tasks are cancelled (their answers say so, and are audited);
   * resolves when they have answered, or after `waitMs`.
   */
  async close(reason: Error, waitMs = 5000): Promise<void> {
    this.stopCancelWatch();
    for (const controller of this.running.values()) controller.abort(reason);
    if (this.runs.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.runs]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, waitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private async mine(taskId: string, owner: string): Promise<StoredTask> {
    const entry = await this.store.get(taskId);
    // another caller's task is indistinguishable from an unknown one
    if (!entry || entry.owner !== owner) throw notFound(taskId);
    return entry;
  }

  private async set(taskId: string, change: (e: StoredTask) => StoredTask): Promise<StoredTask | undefined> {
    const updated = await this.store.update(taskId, (e) => {
      const next = change(e);
      return next === e ? e : { ...next, task: { ...next.task, lastUpdatedAt: new Date().toISOString() } };
    });
    for (const wake of [...(this.waiters.get(taskId) ?? [])]) wake();
    return updated;
  }

  /** Until this process changes the task, or a poll interval passes (a shared store may change elsewhere). */
  private changed(taskId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const set = this.waiters.get(taskId) ?? new Set<() => void>();
      this.waiters.set(taskId, set);
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        set.delete(wake);
        if (set.size === 0) this.waiters.delete(taskId);
      };
      const wake = () => {
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      const timer = setTimeout(wake, this.pollInterval);
      set.add(wake);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function textOf(result: CallToolResult | undefined): string {
  const block = result?.content?.find((c) => c.type === 'text');
  return block && block.type === 'text' ? block.text : '';
}

function firstLine(text: string): string | undefined {
  const line = text.split('\n', 1)[0]?.trim();
  return line ? line.slice(0, MAX_STATUS_MESSAGE) : undefined;
}

function withoutMessage(task: Task): Task {
  const { statusMessage: _, ...rest } = task;
  return rest;
}
