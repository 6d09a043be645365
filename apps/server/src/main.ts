import { parseArgs } from 'node:util';
import { ConfigError, type LogLevel, serveStdio } from '@infra-mcp/core';
import { buildApp } from './app.js';
import { auditVerifyCommand, configCommand, doctorCommand, toolsCommand } from './commands.js';
import { type Flags, loadTokens, parseListen } from './config.js';
import { VERSION } from './version.js';

const USAGE = `infra-mcp ${VERSION}: MCP server for Prometheus, Kubernetes, Proxmox VE and infra-ops

Usage:
  infra-mcp [options]                 serve MCP over stdio (default)
  infra-mcp --http 127.0.0.1:3000     serve Streamable HTTP at /mcp (stateless)
  infra-mcp tools                     list tools: name, effect, schema size
  infra-mcp doctor                    reach every configured backend; non-zero exit on failure
  infra-mcp config                    print the effective config (secrets redacted)
  infra-mcp audit verify [file]       check the audit log's hash chain

Options:
  --config <file>          config file (default ./infra-mcp.yaml; env INFRA_MCP_CONFIG)
  --plugins <a,b>          plugins to enable (default: those configured; env INFRA_MCP_PLUGINS)
  --plugin-module <mod>    also load plugins exported by a module or package (repeatable)
  --read-only              hide and refuse every write/destructive tool (env INFRA_MCP_READ_ONLY)
  --http <host:port>       serve HTTP instead of stdio (env INFRA_MCP_HTTP)
  --token-file <file>      bearer tokens, one name:token per line (env INFRA_MCP_TOKENS=name:token,...)
  --audit-file <file>      JSONL audit log (env INFRA_MCP_AUDIT_FILE)
  --max-bytes <n>          default output budget per result (env INFRA_MCP_MAX_BYTES)
  --log-level <level>      debug|info|warning|error (stderr)
  -h, --help, -v, --version
`;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      plugins: { type: 'string' },
      'plugin-module': { type: 'string', multiple: true },
      'read-only': { type: 'boolean' },
      http: { type: 'string' },
      'token-file': { type: 'string' },
      'audit-file': { type: 'string' },
      'max-bytes': { type: 'string' },
      'log-level': { type: 'string' },
      json: { type: 'boolean' },
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
    process.stdout.write(v.help ? USAGE : `${VERSION}\n`);
    return 0;
  }
  const maxBytes = v['max-bytes'] === undefined ? undefined : Number(v['max-bytes']);
  if (maxBytes !== undefined && !Number.isInteger(maxBytes)) {
    process.stderr.write(
      `infra-mcp: --max-bytes expects an integer, got "${v['max-bytes']}"; example: --max-bytes 32768\n`,
    );
    return 2;
  }
  const flags: Flags = {
    config: v.config,
    plugins: v.plugins?.split(','),
    pluginModules: v['plugin-module'] ?? [],
    readOnly: v['read-only'],
    http: v.http,
    auditFile: v['audit-file'],
    tokenFile: v['token-file'],
    maxBytes,
  };
  const logLevel = (v['log-level'] ?? env.INFRA_MCP_LOG_LEVEL ?? 'info') as LogLevel;
  const [command, sub, ...rest] = positionals;
  try {
    switch (command) {
      case undefined:
      case 'serve':
        return await serve(flags, env, logLevel);
      case 'tools':
        return await toolsCommand(await buildApp(flags, env, 'error'), !!v.json);
      case 'doctor':
        return await doctorCommand(await buildApp(flags, env, 'error'));
      case 'config':
        return await configCommand(await buildApp(flags, env, 'error'));
      case 'audit':
        if (sub !== 'verify')
          throw new ConfigError(`unknown audit command "${sub ?? ''}"; use: infra-mcp audit verify [file]`);
        return await auditVerifyCommand(rest[0], flags, env);
      default:
        throw new ConfigError(
          `unknown command "${command}"; commands: serve (default), tools, doctor, config, audit verify`,
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

async function serve(flags: Flags, env: Record<string, string | undefined>, logLevel: LogLevel): Promise<number> {
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
    tokens: loadTokens(loaded.config, env),
    allowedHosts: loaded.config.http.allowedHosts,
    allowedOrigins: loaded.config.http.allowedOrigins,
    maxBodyBytes: loaded.config.http.maxBodyBytes,
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
