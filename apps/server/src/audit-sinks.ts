import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type AuditSink,
  ConfigError,
  defaultAuditPath,
  JsonlAuditSink,
  StderrAuditSink,
} from '@infra-mcp/core';
import type { AppConfig } from './config.js';

function isSink(value: unknown): value is AuditSink {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AuditSink).name === 'string' &&
    typeof (value as AuditSink).append === 'function'
  );
}

/**
 * The audit sinks the config names: `jsonl`, `stderr`, or `{ module, export, options }` — a
 * module (package name, or a path relative to the config file) whose export is an AuditSink or a
 * function `(options) => AuditSink | Promise<AuditSink>`.
 */
export async function buildAuditSinks(
  audit: AppConfig['audit'],
  env: NodeJS.ProcessEnv,
  configFile?: string,
): Promise<{ sinks: AuditSink[]; auditFile?: string }> {
  const auditFile = audit.sinks.includes('jsonl') ? (audit.file ?? defaultAuditPath(env)) : undefined;
  const base = configFile ? dirname(resolve(configFile)) : process.cwd();
  const sinks: AuditSink[] = [];
  for (const spec of audit.sinks) {
    if (spec === 'jsonl')
      sinks.push(
        new JsonlAuditSink({ path: auditFile, keyFile: audit.keyFile, rotateBytes: audit.rotateBytes, env }),
      );
    else if (spec === 'stderr') sinks.push(new StderrAuditSink());
    else {
      const where = `audit.sinks: module ${spec.module}`;
      const isPath =
        spec.module.startsWith('.') || isAbsolute(spec.module) || existsSync(resolve(base, spec.module));
      let mod: Record<string, unknown>;
      try {
        mod = await import(isPath ? pathToFileURL(resolve(base, spec.module)).href : spec.module);
      } catch (err) {
        throw new ConfigError(`${where}: cannot import it (${(err as Error).message.split('\n')[0]})`);
      }
      const value = mod[spec.export];
      const sink = typeof value === 'function' ? await value(spec.options ?? {}) : value;
      if (!isSink(sink))
        throw new ConfigError(
          `${where}: export "${spec.export}" is not an audit sink (an object with name and append(), or a function returning one)`,
        );
      sinks.push(sink);
    }
  }
  return { sinks, auditFile };
}
