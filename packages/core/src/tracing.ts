/**
 * OpenTelemetry spans of tool calls. Core uses only `@opentelemetry/api`, loaded at the first call
 * (not at start); without a registered SDK every span is a no-op. The app loads the SDK and the
 * OTLP exporter only when tracing is configured.
 */
import type { AsyncLocalStorage } from 'node:async_hooks';
import type * as OtelApi from '@opentelemetry/api';
import type { Context, Span, Tracer, TracerProvider } from '@opentelemetry/api';

export type Otel = typeof OtelApi;

export const TRACER_NAME = '@infra-mcp/core';

let api: Otel | undefined;
let loading: Promise<Otel> | undefined;

/** The OpenTelemetry API, imported once at first use. */
export function otel(): Promise<Otel> {
  if (api) return Promise.resolve(api);
  loading ??= import('@opentelemetry/api').then((m) => {
    api = m;
    return m;
  });
  return loading;
}

/** A tracer of the given provider, else of the global one (a no-op until an SDK registers). */
export async function tracerOf(provider?: TracerProvider): Promise<Tracer> {
  const o = await otel();
  return (provider ?? o.trace.getTracerProvider()).getTracer(TRACER_NAME);
}

/** What a backend request needs to know of the call it serves. */
export interface CallScope {
  /** The tool span's context: backend request spans are its children. */
  trace: Context;
  /** Epoch ms after which nothing more is started for this call (no retry past it). */
  deadline: number;
}

let scopes: AsyncLocalStorage<CallScope> | undefined;

function scopeStore(): AsyncLocalStorage<CallScope> {
  scopes ??= new (
    process.getBuiltinModule('node:async_hooks') as typeof import('node:async_hooks')
  ).AsyncLocalStorage<CallScope>();
  return scopes;
}

export function runInScope<T>(scope: CallScope, fn: () => Promise<T>): Promise<T> {
  return scopeStore().run(scope, fn);
}

export function currentScope(): CallScope | undefined {
  return scopes?.getStore();
}

/**
 * The parent of a call's span: the W3C `traceparent` (and `tracestate`) a client put in the
 * request's `_meta`, read by the registered propagator; else no parent.
 */
export function parentFromMeta(o: Otel, meta: Record<string, unknown> | undefined): Context {
  const traceparent = meta?.traceparent;
  if (typeof traceparent !== 'string') return o.context.active();
  const carrier: Record<string, string> = { traceparent };
  if (typeof meta?.tracestate === 'string') carrier.tracestate = meta.tracestate;
  return o.propagation.extract(o.ROOT_CONTEXT, carrier);
}

export function startToolSpan(o: Otel, tracer: Tracer, tool: string, parent: Context, caller?: string): Span {
  return tracer.startSpan(
    `tools/call ${tool}`,
    {
      kind: o.SpanKind.SERVER,
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': tool,
        'infra_mcp.tool': tool,
        ...(caller !== undefined ? { 'infra_mcp.caller': caller } : {}),
      },
    },
    parent,
  );
}

export function endToolSpan(
  o: Otel,
  span: Span,
  end: {
    instance?: string;
    plugin?: string;
    outcome: string;
    isError: boolean;
    errorCode?: string;
    dryRun: boolean;
    approved: boolean;
  },
): void {
  span.setAttributes({
    ...(end.plugin ? { 'infra_mcp.plugin': end.plugin } : {}),
    ...(end.instance ? { 'infra_mcp.instance': end.instance } : {}),
    'infra_mcp.outcome': end.outcome,
    'infra_mcp.is_error': end.isError,
    'infra_mcp.dry_run': end.dryRun,
    'infra_mcp.approved': end.approved,
    ...(end.errorCode ? { 'error.type': end.errorCode } : {}),
  });
  if (end.isError) span.setStatus({ code: o.SpanStatusCode.ERROR, message: end.errorCode });
  span.end();
}
