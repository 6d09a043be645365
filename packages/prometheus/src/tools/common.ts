import { byteLength, type ToolContext, ToolError, toolkit } from '@infra-mcp/core';
import { z } from 'zod';
import type { PrometheusClient } from '../client.js';
import type { PrometheusConfig } from '../config.js';
import { parseTime } from '../time.js';

export type Ctx = ToolContext<PrometheusClient, PrometheusConfig>;

/** Prometheus tools: `ctx.client` is the instance's PrometheusClient, `ctx.config` its options. */
export const tool = toolkit<PrometheusClient, PrometheusConfig>();

export const timeArg = (what: string) =>
  z
    .union([z.string(), z.number()])
    .optional()
    .describe(`${what}: RFC 3339, unix seconds, or now / now-1h / -30m`);

export const matchArg = z
  .array(z.string().min(1))
  .min(1)
  .describe('Series selectors, e.g. ["up{job=\\"node\\"}"]');

export const warningsSchema = z.array(z.string()).describe('Warnings and infos from Prometheus');
export const warningsOmittedSchema = z
  .number()
  .optional()
  .describe('Warnings/infos left out to fit the budget');

/** Start/end of a metadata-style lookup (series, labels): both optional, both checked. */
export function optionalWindow(args: { start?: string | number; end?: string | number }): [string, string][] {
  const now = Date.now() / 1000;
  const params: [string, string][] = [];
  const end = args.end === undefined ? undefined : parseTime(args.end, now, 'end');
  const start = args.start === undefined ? undefined : parseTime(args.start, now, 'start');
  if (start !== undefined && end !== undefined && start > end) {
    throw new ToolError(
      'bad_time',
      'start is after end',
      'give start earlier than end (e.g. start: "now-1h", end: "now")',
    );
  }
  if (start !== undefined) params.push(['start', String(start)]);
  if (end !== undefined) params.push(['end', String(end)]);
  return params;
}

/** Lines joined (false/undefined skipped), then the note lines of Prometheus warnings/infos (see fitNotes). */
export function render(lines: (string | false | undefined)[], notes: readonly string[] = []): string {
  return [...lines.filter((l): l is string => typeof l === 'string'), ...notes].join('\n');
}

/** Case-insensitive substring filter. */
export function contains(haystack: string, needle: string | undefined): boolean {
  return needle === undefined || haystack.toLowerCase().includes(needle.toLowerCase());
}

export { byteLength };

export const queryEchoSchema = z.string().describe('The query (abbreviated with … when long)');
export const queryBytesSchema = z.number().optional().describe('Bytes of the full query, when abbreviated');
