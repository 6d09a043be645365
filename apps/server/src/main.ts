import { parseArgs } from 'node:util';
import { ConfigError, LOG_LEVELS, type LogLevel, serveStdio } from '@infra-mcp/core';
import { buildApp } from './app.js';
import { auditVerifyCommand, callCommand, configCommand, doctorCommand, toolsCommand } from './commands.js';
import { type Flags, loadTokens, MIN_MAX_BYTES, parseList, parseListen } from './config.js';
import { catalog } from './plugins.js';
import { secretCommand } from './secret-command.js';
import { VERSION } from './version.js';

/** The usage text: names only the plugins this build has. */
function usage(): string {
  const ids = catalog.map((c) => c.id);
  return `infra-mcp ${VERSION}: MCP server for your infrastructure (plugins in this build: ${ids.join(', ') || 'none'})

Usage:
  infra-mcp [options]                 serve MCP over stdio (default)
  infra-mcp --http 127.0.0.1:3000     serve Streamable HTTP at /mcp (stateless)
  infra-mcp tools                     list tools: name, effect, schema size
  infra-mcp call <tool> ['<json>']    call one tool in-process and print its answer (exit 1 on a tool error)
  infra-mcp doctor                    reach every configured backend; non-zero exit on failure
  infra-mcp config                    print the effective config (secrets redacted)
  infra-mcp audit verify [file]       check the audit log's hash chain
  infra-mcp audit verify --sink <s>   check every chain in a configured audit sink (e.g. dynamodb:mcp_ops_log)
  infra-mcp secret encrypt            encrypt a secret read from stdin; prints enc:v1:... for the config
  infra-mcp secret decrypt-check <v>  say whether an enc: value decrypts with your key (never prints it)

Options:
  --config <file>          config file (default ./infra-mcp.yaml; env INFRA_MCP_CONFIG)
  --plugins <a,b>          plugins to enable, of: ${ids.join(', ') || '(none)'} (default: those configured; env INFRA_MCP_PLUGINS)
  --plugin-module <mod>    also load plugins exported by a module or package (repeatable)
  --toolsets <a,b>         toolsets to list: name, plugin/name, all, default (env INFRA_MCP_TOOLSETS;
                           infra-mcp tools shows them; default: each plugin's small default set)
  --read-only              hide and refuse every write/destructive tool (env INFRA_MCP_READ_ONLY)
  --http <host:port>       serve HTTP instead of stdio (env INFRA_MCP_HTTP)
  --allowed-hosts <a,b>    Host headers accepted over HTTP besides loopback and the listen host,
                           e.g. mcp.example.com (env INFRA_MCP_ALLOWED_HOSTS)
  --allowed-origins <a,b>  browser Origins accepted over HTTP, e.g. https://app.example.com
                           (env INFRA_MCP_ALLOWED_ORIGINS)
  --token-file <file>      bearer tokens, one name:token per line (env INFRA_MCP_TOKENS=name:token,...)
  --audit-file <file>      JSONL audit log (env INFRA_MCP_AUDIT_FILE)
  --max-bytes <n>          default output budget per result, an integer >= ${MIN_MAX_BYTES} (env INFRA_MCP_MAX_BYTES)
  --log-level <level>      ${LOG_LEVELS.join('|')} (stderr; env INFRA_MCP_LOG_LEVEL)
  --json                   tools, call: print JSON
  --value <secret>         secret encrypt: the value (lands in shell history; prefer stdin)

Secret options (passwords, tokens) may be references: env:NAME, file:PATH (relative to the config
file) or enc:v1:... (key from INFRA_MCP_SECRET_KEY or INFRA_MCP_SECRET_KEY_FILE, default
~/.config/infra-mcp/secret.key).
  -h, --help, -v, --version
`;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      plugins: { type: 'string' },
      toolsets: { type: 'string' },
      'plugin-module': { type: 'string', multiple: true },
      'read-only': { type: 'boolean' },
      http: { type: 'string' },
      'allowed-hosts': { type: 'string' },
      'allowed-origins': { type: 'string' },
      'token-file': { type: 'string' },
      'audit-file': { type: 'string' },
      sink: { type: 'string' },
      'max-bytes': { type: 'string' },
      'log-level': { type: 'string' },
      json: { type: 'boolean' },
      value: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

export async function main(argv = process.argv.slice(2), env = process.env): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    process.stderr.write(`infra-mcp: ${(err as Error).message}\nRun infra-mcp --help for usage.\n`);
    return 2;
  }
  const { values: v, positionals } = args;
  if (v.help || v.version) {
    process.stdout.write(v.help ? usage() : `${VERSION}\n`);
    return 0;
  }
  let flags: Flags;
  let logLevel: LogLevel;
  try {
    flags = {
      config: v.config,
      plugins: v.plugins?.split(','),
      toolsets: v.toolsets?.split(','),
      pluginModules: v['plugin-module'] ?? [],
      readOnly: v['read-only'],
      http: v.http,
      allowedHosts:
        v['allowed-hosts'] === undefined ? undefined : parseList('--allowed-hosts', v['allowed-hosts']),
      allowedOrigins:
        v['allowed-origins'] === undefined ? undefined : parseList('--allowed-origins', v['allowed-origins']),
      auditFile: v['audit-file'],
      tokenFile: v['token-file'],
      maxBytes: v['max-bytes'] === undefined ? undefined : parseMaxBytes('--max-bytes', v['max-bytes']),
    };
    if (v.http !== undefined) parseListen(v.http);
    logLevel = parseLogLevel(v['log-level'], env.INFRA_MCP_LOG_LEVEL);
  } catch (err) {
    process.stderr.write(`infra-mcp: ${(err as Error).message}\nRun infra-mcp --help for usage.\n`);
    return 2;
  }
  const [command, sub, ...rest] = positionals;
  try {
    switch (command) {
      case undefined:
      case 'serve':
        return await serve(flags, env, logLevel);
      case 'tools':
        return await toolsCommand(await buildApp(flags, env, 'error'), !!v.json);
      case 'call':
        if (!sub)
          throw new ConfigError(
            `call: name a tool; example: infra-mcp call prometheus_query '{"query":"up"}'`,
          );
        return await callCommand(await buildApp(flags, env, 'error'), sub, rest, !!v.json);
      case 'doctor':
        return await doctorCommand(await buildApp(flags, env, 'error'));
      case 'config':
        return await configCommand(await buildApp(flags, env, 'error'));
      case 'audit':
        if (sub !== 'verify')
          throw new ConfigError(`unknown audit command "${sub ?? ''}"; use: infra-mcp audit verify [file]`);
        return await auditVerifyCommand(rest[0], flags, env, v.sink);
      case 'secret':
        return await secretCommand(sub, rest, { value: v.value }, env);
      default:
        throw new ConfigError(
          `unknown command "${command}"; commands: serve (default), tools, call, doctor, config, audit verify, secret encrypt, secret decrypt-check`,
        );
    }
  } catch (err) {
    if (err instanceof ConfigError || (err as Error).name === 'ConfigError') {
      process.stderr.write(`infra-mcp: configuration error:\n${(err as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`infra-mcp: ${(err as Error).message}\n`);
    return 1;
  }
}

async function serve(
  flags: Flags,
  env: Record<string, string | undefined>,
  logLevel: LogLevel,
): Promise<number> {
  const app = await buildApp(flags, env, logLevel);
  const { server, loaded } = app;
  const enabled = server.registry.runtimes.map((r) => r.plugin.id);
  server.log.info(
    `plugins: ${enabled.join(', ') || 'none configured (run infra-mcp doctor to see what to configure)'}; tools: ${server.registry.toolList.length}`,
  );
  if (!loaded.config.http.listen) {
    const stop = async () => {
      await server.close();
      process.exit(0);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await serveStdio(server);
    await server.close();
    return 0;
  }
  const { serveHttp } = await import('@infra-mcp/core/http');
  const { host, port } = parseListen(loaded.config.http.listen);
  const http = await serveHttp(server, {
    host,
    port,
    rateLimit: loaded.config.http.rateLimit,
    compressMinBytes: loaded.config.http.compressMinBytes,
    tokens: loadTokens(loaded.config, env),
    allowedHosts: loaded.config.http.allowedHosts,
    allowedOrigins: loaded.config.http.allowedOrigins,
    maxBodyBytes: loaded.config.http.maxBodyBytes,
    oauth: loaded.config.auth.oauth,
  });
  process.stderr.write(`infra-mcp: listening on ${http.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`infra-mcp: ${signal}: finishing in-flight requests, then stopping\n`);
      http
        .close()
        .then(() => server.close())
        .finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

function parseMaxBytes(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < MIN_MAX_BYTES)
    throw new ConfigError(
      `${flag} expects an integer >= ${MIN_MAX_BYTES} (bytes), got "${raw}"; example: ${flag} 32768`,
    );
  return n;
}

function parseLogLevel(flag: string | undefined, envValue: string | undefined): LogLevel {
  const [source, raw] = flag !== undefined ? ['--log-level', flag] : ['env INFRA_MCP_LOG_LEVEL', envValue];
  if (raw === undefined || raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw))
    throw new ConfigError(
      `${source} expects one of ${LOG_LEVELS.join(', ')}, got "${raw}"; example: ${flag !== undefined ? '--log-level debug' : 'INFRA_MCP_LOG_LEVEL=debug'}`,
    );
  return raw as LogLevel;
}
