/**
 * OpenTelemetry spans of tool calls. Core uses only `@opentelemetry/api`: without a registered SDK
 * every span is a no-op. The app loads the SDK and the OTLP exporter only when tracing is configured.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

export const TRACER_NAME = '@infra-mcp/core';

/** What a backend request needs to know of the call it serves. */
export interface CallScope {
  /** The tool span's context: backend request spans are its children. */
  trace: Context;
  /** Epoch ms after which nothing more is started for this call (no retry past it). */
  deadline: number;
}

const scopes = new AsyncLocalStorage<CallScope>();

export function runInScope<T>(scope: CallScope, fn: () => Promise<T>): Promise<T> {
  return scopes.run(scope, fn);
}

export function currentScope(): CallScope | undefined {
  return scopes.getStore();
}

export function tracerOf(provider?: TracerProvider): Tracer {
  return (provider ?? trace.getTracerProvider()).getTracer(TRACER_NAME);
}

/**
 * The parent of a call's span: the W3C `traceparent` (and `tracestate`) a client put in the
 * request's `_meta`, read by the registered propagator; else no parent.
 */
export function parentFromMeta(meta: Record<string, unknown> | undefined): Context {
  const traceparent = meta?.traceparent;
  if (typeof traceparent !== 'string') return context.active();
  const carrier: Record<string, string> = { traceparent };
  if (typeof meta?.tracestate === 'string') carrier.tracestate = meta.tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

export function startToolSpan(tracer: Tracer, tool: string, parent: Context, caller?: string): Span {
  return tracer.startSpan(
    `tools/call ${tool}`,
    {
      kind: SpanKind.SERVER,
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
  if (end.isError) span.setStatus({ code: SpanStatusCode.ERROR, message: end.errorCode });
  span.end();
}

export { SpanKind, SpanStatusCode, trace };
