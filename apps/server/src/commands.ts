import { existsSync } from 'node:fs';
import {
  byteLength,
  defaultAuditPath,
  JsonlAuditSink,
  redact,
  redactConfig,
  showReferences,
  table,
  type VerifyResult,
  verifyAuditFile,
  verifyAuditSink,
} from '@infra-mcp/core';
import type { App } from './app.js';
import { buildAuditSinks } from './audit-sinks.js';
import { appConfigSchema, type Flags, loadConfig, loadYaml } from './config.js';

const out = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);

/** `infra-mcp tools`: name, effect, schema size; and what tools/list costs a session. */
export async function toolsCommand(app: App, json: boolean): Promise<number> {
  const { registry } = app.server;
  const rows = registry.toolList.map((t) => {
    const tool = registry.tools.get(t.name)!;
    return {
      name: t.name,
      effect: tool.effect,
      schemaBytes:
        byteLength(JSON.stringify(t.inputSchema)) + byteLength(JSON.stringify(t.outputSchema ?? {})),
    };
  });
  const listBytes = byteLength(JSON.stringify({ tools: registry.toolList }));
  if (json) {
    out(JSON.stringify({ tools: rows, hidden: [...registry.hidden.keys()], toolsListBytes: listBytes }));
    return 0;
  }
  if (rows.length === 0) out('no tools: no plugin is enabled (infra-mcp doctor says what to configure)');
  else
    out(
      table(
        ['TOOL', 'EFFECT', 'SCHEMA BYTES'],
        rows.map((r) => [r.name, r.effect, r.schemaBytes]),
      ),
    );
  const byPolicy = [...registry.hidden.keys()].filter((n) => !registry.unlisted.has(n));
  if (byPolicy.length) out(`hidden by policy: ${byPolicy.join(', ')}`);
  if (registry.unlisted.size)
    out(`not in the chosen toolsets (--toolsets all lists them): ${[...registry.unlisted].join(', ')}`);
  out(`tools/list: ${rows.length} tools, ${listBytes} bytes`);
  return 0;
}

/** `infra-mcp doctor`: reach every configured backend and the audit sink; non-zero exit on any failure. */
export async function doctorCommand(app: App): Promise<number> {
  let failed = false;
  const lines: string[][] = [];
  if (app.auditFile) {
    try {
      await new JsonlAuditSink(app.auditFile).check();
      lines.push(['audit', 'jsonl', 'ok', app.auditFile]);
    } catch (err) {
      failed = true;
      lines.push(['audit', 'jsonl', 'FAIL', `${app.auditFile}: ${(err as Error).message}`]);
    }
    const chain = await auditChainLine(app.auditFile);
    if (chain[2] === 'FAIL') failed = true;
    lines.push(chain);
  }
  const oauth = app.loaded.config.auth.oauth;
  if (oauth) {
    const { checkOAuthIssuer } = await import('@infra-mcp/core/oauth');
    const check = await checkOAuthIssuer(oauth);
    if (!check.ok) failed = true;
    lines.push(['auth', 'oauth', check.ok ? 'ok' : 'FAIL', check.message]);
  }
  for (const check of await app.server.health()) {
    if (!check.report.ok) failed = true;
    lines.push([check.plugin, check.instance, check.report.ok ? 'ok' : 'FAIL', check.report.message]);
  }
  out(table(['PLUGIN', 'INSTANCE', 'STATUS', 'DETAIL'], lines));
  if (app.server.registry.runtimes.length === 0) {
    out('\nno plugin is configured, so the server offers no tools. To configure one:');
    if (app.available.length === 0)
      out(
        '  no provider plugin is installed; install one (e.g. npm install @infra-mcp/prometheus) or pass --plugin-module',
      );
    for (const c of app.available) out(`  ${c.id.padEnd(12)} ${c.configureHint}`);
    return 1;
  }
  return failed ? 1 : 0;
}

/**
 * The audit chain as `doctor` reports it: does it verify, and did a server lose records (a read
 * served while the sink failed is counted, and the chain says so once the sink works again)?
 */
async function auditChainLine(file: string): Promise<string[]> {
  if (!existsSync(file)) return ['audit', 'chain', 'ok', 'no records yet'];
  const result = await verifyAuditFile(file);
  const notes = result.warnings ?? [];
  const lost = notes.filter((w) => /lost records/.test(w)).length;
  const recovered = notes.filter((w) => /recover/i.test(w)).length;
  const detail = `${result.records} records${lost ? `; ${lost} notes of lost records (reads served while the sink failed)` : ''}${recovered ? `; ${recovered} torn tails recovered` : ''}`;
  if (!result.ok)
    return [
      'audit',
      'chain',
      'FAIL',
      `${detail}; ${result.error?.problem ?? 'does not verify'} (infra-mcp audit verify)`,
    ];
  return ['audit', 'chain', lost ? 'WARN' : 'ok', detail];
}

/** `infra-mcp config`: the effective config, secrets redacted. */
export async function configCommand(app: App): Promise<number> {
  const { config, file } = app.loaded;
  const plugins: Record<string, unknown> = {};
  for (const r of app.server.registry.runtimes) plugins[r.plugin.id] = { instances: r.redactedConfig() };
  // marked secrets, then anything credential-looking (URL passwords, Authorization headers, tokens)
  const secrets = app.server.registry.runtimes.flatMap((r) => r.config.secrets);
  const effective = redact({ ...(redactConfig(appConfigSchema, config) as object), plugins }, secrets);
  // a secret given as a reference shows as written (env:NAME, file:PATH, enc:v1:<key id>:[encrypted]): names, not values
  for (const r of app.server.registry.runtimes) {
    const shown = (effective.plugins as Record<string, { instances: Record<string, unknown> }>)[r.plugin.id]!;
    for (const [name, refs] of Object.entries(r.config.references ?? {}))
      showReferences(shown.instances[name], refs);
  }
  showReferences(effective, app.loaded.references);
  out(`# effective config (flags > env > ${file ?? 'no config file'} > defaults); secrets redacted`);
  out((await loadYaml()).stringify(effective));
  return 0;
}

/**
 * `infra-mcp audit verify [file]`: stream the log (rotated files first), check every writer's
 * chain with the key, the links between files and the head against the checkpoint kept apart.
 * `--sink <name>`: verify a configured sink that reads its records back (a table shared by replicas).
 */
export async function auditVerifyCommand(
  fileArg: string | undefined,
  flags: Flags,
  env: Record<string, string | undefined>,
  sinkName?: string,
): Promise<number> {
  const loaded = await loadConfig(flags, env);
  const { audit } = loaded.config;
  let where: string;
  let result: VerifyResult;
  if (sinkName !== undefined) {
    const { sinks } = await buildAuditSinks(audit, env as NodeJS.ProcessEnv, loaded.file);
    const sink = sinks.find((s) => s.name === sinkName);
    if (!sink) {
      process.stderr.write(
        `infra-mcp: audit verify: no audit sink named "${sinkName}" in audit.sinks; configured: ${sinks.map((s) => s.name).join(', ') || 'none'}\n`,
      );
      await Promise.all(sinks.map((s) => s.close?.()));
      return 2;
    }
    where = sink.name;
    result = await verifyAuditSink(sink, { keyFile: audit.keyFile, env });
    await Promise.all(sinks.map((s) => s.close?.()));
  } else {
    const file = fileArg ?? audit.file ?? defaultAuditPath(env);
    if (!existsSync(file)) {
      process.stderr.write(`infra-mcp: audit file not found: ${file}\n`);
      return 1;
    }
    where = file;
    result = await verifyAuditFile(file, { keyFile: audit.keyFile, env });
  }
  const files = result.files?.length ?? 1;
  const chains = result.chains ?? [];
  if (result.ok) {
    out(
      `ok: ${result.records} records, chain intact (${where}); ${chains.length} chain${chains.length === 1 ? '' : 's'}${files > 1 ? `, ${files} files` : ''}`,
    );
  } else {
    const e = result.error!;
    const at = e.line > 0 ? ` ${sinkName !== undefined ? 'record' : 'line'} ${e.line}` : '';
    out(`FAIL: ${e.file ?? where}${at}${e.id ? ` (record ${e.id})` : ''}: ${e.problem}`);
  }
  for (const c of chains) out(`  chain ${c.chain}: ${c.records} records, seq ${c.firstSeq}..${c.lastSeq}`);
  for (const w of result.warnings ?? []) out(`warning: ${w}`);
  return result.ok ? 0 : 1;
}

/** `infra-mcp call <tool> ['<json>']`: one tools/call in-process (policy, audit, budget as served). */
export async function callCommand(app: App, tool: string, rest: string[], json: boolean): Promise<number> {
  const { server } = app;
  try {
    const names = server.registry.toolList.map((t) => t.name);
    if (!names.includes(tool)) {
      process.stderr.write(
        `infra-mcp: call: unknown tool "${tool}"; tools: ${names.join(', ') || 'none (no plugin is enabled; infra-mcp doctor says what to configure)'}\n`,
      );
      return 2;
    }
    let args: unknown = {};
    if (rest[0] !== undefined) {
      try {
        args = JSON.parse(rest[0]);
      } catch (err) {
        process.stderr.write(
          `infra-mcp: call: arguments must be one JSON object (${(err as Error).message}); example: '{"query":"up"}'\n`,
        );
        return 2;
      }
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      process.stderr.write(`infra-mcp: call: arguments must be a JSON object; example: '{"query":"up"}'\n`);
      return 2;
    }
    const result = await server.callTool(tool, args as Record<string, unknown>);
    if (json) out(JSON.stringify(result));
    else
      for (const c of result.content ?? []) {
        if (c.type === 'text') out(c.text);
      }
    return result.isError ? 1 : 0;
  } finally {
    await server.close();
  }
}
