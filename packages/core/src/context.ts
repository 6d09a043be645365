import type { CallContext } from './call-context.js';
import { type Logger, type LogLevel, levelRank } from './log.js';
import type { Operation, PollOptions, PollStep, SampleParams, StillRunning, ToolContext } from './plugin.js';
import { addSecret, redact } from './redact.js';
import type { Reveals } from './reveal.js';
import type { PluginRuntime } from './runtime.js';

/** Thrown by `ctx.poll` when the deadline passes: the pipeline answers with the "still running" result. */
export class StillRunningSignal extends Error {
  constructor(readonly state: StillRunning) {
    super(`${state.id} is still running`);
    this.name = 'StillRunningSignal';
  }
}

export interface ContextInput {
  runtime: PluginRuntime;
  instance: string;
  client: unknown;
  call: CallContext;
  /** What the tool watches: cancellation, and for reads the timeout. */
  signal: AbortSignal;
  budget: number;
  timeoutMs: number;
  deadline: number;
  log: Logger;
  /** Values this call shows its caller unredacted (`ctx.reveal`). */
  reveals?: Reveals;
}

/** Revealed values this long or longer are scrubbed from every other output (shorter ones are too common). */
const REVEALED_MIN_LEARNED = 8;

/** The `ctx` a tool, plan, verify or resource read gets. Everything that leaves through it is scrubbed. */
export function toolContext(input: ContextInput): ToolContext {
  const { runtime, instance, client, call, signal, budget, timeoutMs, deadline } = input;
  const pluginId = runtime.plugin.id;
  const notify = call.sendNotification;
  const minLevel = levelRank(call.logLevel);
  const send = (level: LogLevel, rawMessage: string, rawData?: unknown) => {
    // tool logs reach stderr and the client: scrubbed like results
    const message = runtime.scrub(rawMessage);
    const data = rawData === undefined ? undefined : redact(rawData, runtime.config.secrets);
    const line = `${pluginId}/${instance}: ${message}`;
    if (level === 'info' || level === 'notice') input.log.info(line);
    else if (level === 'warning') input.log.warn(line);
    else if (level !== 'debug') input.log.error(line);
    if (notify && levelRank(level) >= minLevel) {
      notify({
        method: 'notifications/message',
        params: { level, logger: pluginId, data: data === undefined ? message : { message, data } },
      }).catch(() => {});
    }
  };
  const progress = async (value: number, total?: number, message?: string) => {
    call.onProgress?.(value, total, message === undefined ? undefined : runtime.scrub(message));
    if (call.progressToken === undefined || !notify) return;
    await notify({
      method: 'notifications/progress',
      params: {
        progressToken: call.progressToken,
        progress: value,
        ...(total !== undefined ? { total } : {}),
        ...(message ? { message: runtime.scrub(message) } : {}),
      },
    });
  };
  const { elicitInput, createMessage } = call;
  return {
    client,
    instance,
    config: runtime.config.instances[instance],
    signal,
    deadline,
    budget,
    caller: call.caller,
    poll: (check, options) => poll(check, options, { signal, deadline, progress }),
    secret: (value) => addSecret(runtime.config.secrets, value),
    reveal: (value) => {
      // shown here, scrubbed everywhere else from now on (the length rule of values learned by path)
      if (value.length >= REVEALED_MIN_LEARNED) addSecret(runtime.config.secrets, value);
      if (!input.reveals)
        throw new Error('ctx.reveal is only available in a tool call (its answer carries the values)');
      return input.reveals.mark(value);
    },
    // what goes to the client is scrubbed like results: the message, and text the model is shown
    ...(elicitInput
      ? {
          elicit: (message: string, requestedSchema: object) =>
            elicitInput(runtime.scrub(message), requestedSchema, { signal, timeoutMs }),
        }
      : {}),
    ...(createMessage
      ? {
          sample: (params: SampleParams) =>
            createMessage(
              {
                ...params,
                ...(params.systemPrompt !== undefined
                  ? { systemPrompt: runtime.scrub(params.systemPrompt) }
                  : {}),
                messages: params.messages.map((m) =>
                  m.content.type === 'text'
                    ? { ...m, content: { ...m.content, text: runtime.scrub(m.content.text) } }
                    : m,
                ),
              },
              { signal, timeoutMs },
            ),
        }
      : {}),
    log: {
      debug: (m, d) => send('debug', m, d),
      info: (m, d) => send('info', m, d),
      warn: (m, d) => send('warning', m, d),
      error: (m, d) => send('error', m, d),
    },
    progress,
  };
}

/** Checks until done; each step reported as progress; the deadline ends the wait with StillRunningSignal. */
async function poll<T>(
  check: () => Promise<PollStep<T>>,
  { intervalMs, operation }: PollOptions,
  env: {
    signal: AbortSignal;
    deadline: number;
    progress: (value: number, total?: number, message?: string) => Promise<void>;
  },
): Promise<T> {
  const started = Date.now();
  let steps = 0;
  for (;;) {
    env.signal.throwIfAborted();
    const step = await check();
    if (step.done) return step.value;
    steps++;
    const message = step.message ?? step.status;
    await env.progress(step.progress ?? steps, step.total, message).catch(() => {});
    const wait = Math.min(intervalMs, env.deadline - Date.now());
    if (wait <= 0) throw new StillRunningSignal(stillRunning(operation, step, started));
    await sleep(wait, env.signal);
    if (Date.now() >= env.deadline) {
      // one last look: an operation that finished while we slept is reported as done
      const last = await check();
      if (last.done) return last.value;
      throw new StillRunningSignal(stillRunning(operation, last, started));
    }
  }
}

function stillRunning(operation: Operation, step: PollStep<unknown>, started: number): StillRunning {
  const s: { message?: string; status?: string; progress?: number; total?: number } = step.done ? {} : step;
  return {
    id: operation.id,
    poll: operation.poll,
    status: 'running',
    ...((s.message ?? s.status) ? { message: s.message ?? s.status } : {}),
    ...(s.progress !== undefined ? { progress: s.progress } : {}),
    ...(s.total !== undefined ? { total: s.total } : {}),
    waitedSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
