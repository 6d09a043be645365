import {
  byteLength,
  ErrorCodes,
  headBytes,
  humanBytes,
  isSecretKey,
  matchesAny,
  maxBytesArg,
  type OutputCapture,
  ToolError,
  tailBytes,
} from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { type Ctx, namespaceArg, namespaceOf, tool } from '../common.js';
import { execInPod } from '../exec-stream.js';

interface Handle {
  uid: string;
  what: string;
}

/** Off unless the instance's context matches `execContexts`: a clear error naming the key. */
function checkEnabled(ctx: Ctx): void {
  const context = ctx.client.context;
  if (matchesAny(context, ctx.config.execContexts)) return;
  throw new ToolError(
    ErrorCodes.notConfigured,
    `k8s_exec is off on instance "${ctx.instance}" (context "${context}"): it runs only on contexts matching plugins.k8s.execContexts${ctx.config.execContexts.length ? ` (${ctx.config.execContexts.join(', ')})` : ', which is empty'}`,
    `to allow it, add the context to the config: plugins.k8s.execContexts: ["${context}"]`,
  );
}

/**
 * Values in an argv that look like credentials: `--password=x`, `--token x`, `PGPASSWORD=x`, also
 * inside a `sh -c` script. They are scrubbed from the preview, the answer and the audit record.
 */
export function argvSecrets(argv: readonly string[]): string[] {
  const unquote = (v: string) => v.replace(/^(['"])(.*)\1$/s, '$2');
  const words = argv.flatMap((a) => a.split(/\s+/)).filter(Boolean);
  const out: string[] = [];
  for (const [i, w] of words.entries()) {
    const assign = /^-{0,2}([A-Za-z_][A-Za-z0-9_.-]*)=(.+)$/s.exec(w);
    if (assign && isSecretKey(assign[1]!)) out.push(unquote(assign[2]!));
    const flag = /^--?([A-Za-z][A-Za-z0-9_.-]*)$/.exec(w);
    if (flag && isSecretKey(flag[1]!) && words[i + 1] !== undefined) out.push(unquote(words[i + 1]!));
  }
  for (const [i, a] of argv.entries()) {
    const flag = /^--?([A-Za-z][A-Za-z0-9_.-]*)$/.exec(a);
    if (flag && isSecretKey(flag[1]!) && argv[i + 1] !== undefined) out.push(argv[i + 1]!);
  }
  return out;
}

function containerOf(pod: Obj, asked: string | undefined): string {
  const names: string[] = (pod.spec?.containers ?? []).map((c: Obj) => c.name);
  const where = `pod ${pod.metadata?.namespace}/${pod.metadata?.name}`;
  if (asked) {
    if (names.includes(asked)) return asked;
    throw new ToolError(
      'not_found',
      `${where} has no container "${asked}"; its containers: ${names.join(', ')}`,
      'pass one of them as container',
    );
  }
  const preferred = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (preferred && names.includes(preferred)) return preferred;
  if (names.length === 1) return names[0]!;
  throw new ToolError(
    'invalid_arguments',
    `${where} has ${names.length} containers (${names.join(', ')}): say which`,
    'pass container',
  );
}

const json = (argv: readonly string[]) => JSON.stringify(argv);

export const execTool = tool({
  name: 'exec',
  title: 'Run a command in a container',
  description:
    'Run an argv (no shell; for one pass ["sh","-c","..."]) in a pod container; time and output capped. Off unless the context is in execContexts.',
  input: z.object({
    maxBytes: maxBytesArg,
    pod: z.string().min(1).describe('Pod name'),
    namespace: namespaceArg,
    container: z.string().optional().describe('Container (default: the only one, or the default-container)'),
    command: z
      .array(z.string())
      .min(1)
      .max(256)
      .describe('argv, run as is without a shell, e.g. ["ls","-la","/data"]'),
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Close the stream after this long (default and maximum: execTimeoutSeconds)'),
  }),
  output: z.object({
    pod: z.string(),
    container: z.string(),
    command: z.array(z.string()),
    exitCode: z.number().optional().describe('Absent when the stream was closed first (timedOut)'),
    timedOut: z.boolean(),
    error: z.string().optional().describe('Why the command did not run or ended without an exit code'),
    stdoutBytes: z.number(),
    stderrBytes: z.number(),
    cut: z.boolean().describe('Output was cut in the middle (head and tail kept)'),
  }),
  preview: z.object({
    pod: z.string(),
    container: z.string(),
    command: z.array(z.string()),
    timeoutSeconds: z.number(),
  }),
  effect: 'write',
  toolset: 'write',
  plan: async (args, ctx) => {
    checkEnabled(ctx);
    const max = ctx.config.execTimeoutSeconds;
    if (args.timeoutSeconds !== undefined && args.timeoutSeconds > max)
      throw new ToolError(
        'invalid_arguments',
        `timeoutSeconds ${args.timeoutSeconds} is over the limit of this instance (${max} s)`,
        `pass at most ${max}, or raise plugins.k8s.execTimeoutSeconds`,
      );
    for (const v of argvSecrets(args.command)) ctx.secret(v);
    const ns = namespaceOf(ctx, args.namespace);
    const pod = await ctx.client.get<Obj>(
      `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(args.pod)}`,
      { signal: ctx.signal },
    );
    const container = containerOf(pod, args.container);
    const phase = pod.status?.phase;
    if (phase && phase !== 'Running')
      throw new ToolError(
        'invalid',
        `pod ${ns}/${args.pod} is ${phase}: its containers are not running`,
        'k8s_describe kind=Pod shows why; exec into a Running pod',
      );
    const timeoutSeconds = args.timeoutSeconds ?? max;
    const what = `${ns}/${args.pod}`;
    return {
      change: {
        namespace: ns,
        pod: args.pod,
        uid: pod.metadata?.uid,
        container,
        command: args.command,
        timeoutSeconds,
      },
      summary: `exec in pod ${what} (container ${container}): ${json(args.command)}`,
      preview: { pod: what, container, command: args.command, timeoutSeconds },
      text: [
        `pod:       ${what}`,
        `container: ${container}`,
        `argv:      ${json(args.command)}`,
        `timeout:   ${timeoutSeconds} s`,
      ].join('\n'),
      handle: { uid: pod.metadata?.uid, what } satisfies Handle,
    };
  },
  verify: async (args, ctx, plan) => {
    const h = plan.handle as Handle;
    const ns = namespaceOf(ctx, args.namespace);
    const pod = await ctx.client.get<Obj>(
      `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(args.pod)}`,
      { signal: ctx.signal },
    );
    if (pod.metadata?.uid !== h.uid)
      throw new ToolError(
        'stale_plan',
        `pod ${h.what} was replaced since the preview (another uid)`,
        'preview again (call k8s_exec without approval)',
      );
  },
  run: async (args, ctx, plan) => {
    checkEnabled(ctx);
    const p = plan!.preview as { pod: string; container: string; timeoutSeconds: number };
    const ns = namespaceOf(ctx, args.namespace);
    const r = await execInPod(ctx.client, {
      namespace: ns,
      pod: args.pod,
      container: p.container,
      command: args.command,
      timeoutMs: p.timeoutSeconds * 1000,
      maxOutputBytes: ctx.config.execMaxOutputBytes,
      signal: ctx.signal,
    });
    const data = {
      pod: p.pod,
      container: p.container,
      command: args.command,
      ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
      timedOut: r.timedOut,
      ...(r.error ? { error: r.error } : {}),
      stdoutBytes: r.stdout.total,
      stderrBytes: r.stderr.total,
      cut: false,
    };
    const header = r.timedOut
      ? `timed out after ${p.timeoutSeconds} s: the stream was closed (the command may still run in the container)`
      : r.exitCode !== undefined
        ? `exit code ${r.exitCode}`
        : `no exit code: ${r.error ?? 'the stream ended without a status'}`;
    const sizes = `stdout ${humanBytes(r.stdout.total)}, stderr ${humanBytes(r.stderr.total)}`;
    // the output is in the text only (one copy); what the structured part and header leave is shared
    const room = Math.max(256, ctx.budget - byteLength(JSON.stringify({ ...data, cut: true })) - 300);
    const out = shown(r.stdout, r.stderr, room, (s) => ctx.client.scrub(s));
    data.cut = out.cut;
    const text = [`${header} (${sizes})`];
    if (r.stdout.total) text.push('--- stdout', out.stdout);
    if (r.stderr.total) text.push('--- stderr', out.stderr);
    return {
      data,
      text: text.join('\n'),
      audit: {
        pod: p.pod,
        container: p.container,
        argv: args.command,
        ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
        timedOut: r.timedOut,
        stdoutBytes: r.stdout.total,
        stderrBytes: r.stderr.total,
      },
    };
  },
});

/** stdout and stderr within `room` bytes: each its share (what one does not use goes to the other), head and tail kept. */
function shown(
  stdout: OutputCapture,
  stderr: OutputCapture,
  room: number,
  mask: (s: string) => string,
): { stdout: string; stderr: string; cut: boolean } {
  const [o, e] = [stdout.parts(mask), stderr.parts(mask)];
  const size = (x: { head: string; tail: string }) => byteLength(x.head) + byteLength(x.tail);
  const eShare = Math.min(size(e), Math.max(Math.floor(room / 2), room - size(o)));
  const oShare = room - eShare;
  const fit = (x: { head: string; tail: string; cutBytes: number }, share: number) => {
    if (size(x) <= share && x.cutBytes === 0) return { text: x.head.replace(/\n$/, ''), cut: false };
    const whole = x.cutBytes === 0 ? x.head : undefined;
    const head = headBytes(whole ?? x.head, Math.floor(share / 2));
    const tail = tailBytes(whole ?? x.tail, Math.floor(share / 2));
    const cut = byteLength(whole ?? x.head + x.tail) - byteLength(head) - byteLength(tail) + x.cutBytes;
    return {
      text: `${head}\n… [${cut} bytes cut: raise maxBytes, or narrow the command's output] …\n${tail.replace(/\n$/, '')}`,
      cut: true,
    };
  };
  const [so, se] = [fit(o, oShare), fit(e, eShare)];
  return { stdout: so.text, stderr: se.text, cut: so.cut || se.cut };
}
