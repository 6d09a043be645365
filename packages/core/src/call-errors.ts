import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import { ErrorCodes, isToolError, ToolError } from './errors.js';
import { renderData, truncateText } from './output.js';

/** Error mapping of the call pipeline: what a failed call looks like to the model and to the audit. */

/** Details shown in an error's text at most (the whole object stays in `_meta` and the audit record). */
const MAX_DETAILS_TEXT = 4096;

/** Zod issues as one line naming each argument and what was wrong with it. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.join('.') || '(arguments)';
      if (i.code === 'unrecognized_keys')
        return `unknown argument${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
      if (i.code === 'invalid_type' && /received undefined/.test(i.message))
        return `${path}: required (${i.expected})`;
      if (i.code === 'invalid_type' && i.path.length === 0)
        return `arguments must be an object of named arguments (${i.message})`;
      return `${path}: ${i.message}`;
    })
    .join('; ');
}

/** An `isError` result: code, message, hint, and the error's details (what was done, what was not). */
export function errorResult(err: ToolError): CallToolResult {
  const details = err.details && Object.keys(err.details).length ? err.details : undefined;
  const detailText = details ? `\n${truncateText(renderData(details), MAX_DETAILS_TEXT).text}` : '';
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `error [${err.code}]: ${err.message}${err.hint ? `\nhint: ${err.hint}` : ''}${detailText}`,
      },
    ],
    _meta: {
      'infra-mcp/error': {
        code: err.code,
        message: err.message,
        ...(err.hint ? { hint: err.hint } : {}),
        ...(details ? { details } : {}),
      },
    },
  };
}

/** Any thrown value as a ToolError with secrets scrubbed from every text (message, hint, details). */
export function toToolError(
  err: unknown,
  callSignal: AbortSignal | undefined,
  timeoutMs: number,
  scrub: (s: string) => string,
  redactValue: (v: unknown) => unknown,
): ToolError {
  if (isToolError(err))
    return new ToolError(
      err.code,
      scrub(err.message),
      err.hint && scrub(err.hint),
      err.details && (redactValue(err.details) as Record<string, unknown>),
    );
  const e = err as Error & { name?: string };
  if (callSignal?.aborted)
    return new ToolError(
      ErrorCodes.cancelled,
      'the call was cancelled by the client',
      'call again if the result is still needed',
    );
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new ToolError(
      ErrorCodes.timeout,
      `the backend did not answer within ${timeoutMs} ms`,
      'narrow the request or try again later',
    );
  }
  return new ToolError(
    ErrorCodes.backendError,
    scrub(e?.message ?? String(err)),
    'check the arguments and the backend; infra-mcp doctor tests connectivity',
  );
}

/** Resolve with the work, or reject as soon as the signal aborts (tools that ignore the signal still stop the call). */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A JSON-RPC error whose message reaches the client as written. (The SDK's McpError prefixes its
 * message with "MCP error <code>: ", and SDK clients add the prefix again when they rethrow it.)
 */
export function protocolError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}
