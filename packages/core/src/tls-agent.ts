/**
 * `@infra-mcp/core/tls`: the node:https Agent for core's TLS options. A subpath of its own, so the
 * main entry's types need no Node type declarations in a consumer's project.
 */
import { readFileSync } from 'node:fs';
import type https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from './log.js';
import { normalizeFingerprint, pinMismatchError, type TlsOptions } from './tls.js';

export interface HttpsAgentOptions {
  /** Who connects, for log lines and errors: e.g. `prometheus instance "prod" (https://prom:9090/)`. */
  label: string;
  log?: Logger;
  /** Config key prefix of these options, for hints (default `tls`). */
  configKey?: string;
  keepAlive?: boolean;
}

function readPem(file: string, key: string, label: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${label}: ${key} ${file} cannot be read: ${(err as Error).message}`);
  }
}

/**
 * A node:https Agent for these TLS options (the mechanism node:https / node:http clients take as
 * `agent`). Reads the PEM files now (a missing file fails setup, naming the key), logs a warning
 * when verification is off. With `fingerprint256`, a connection is handed to the request only after
 * the server's leaf certificate matched the pin: nothing (not even headers) is sent to a server that
 * does not match, and the request fails with a `tls_error` naming the expected and the presented
 * fingerprints. TLS session resumption is off when pinned, so every connection shows its certificate.
 */
export function createHttpsAgent(tls: TlsOptions | undefined, options: HttpsAgentOptions): https.Agent {
  const key = options.configKey ?? 'tls';
  const https = process.getBuiltinModule('node:https') as typeof import('node:https');
  const pin = tls?.fingerprint256 ? normalizeFingerprint(tls.fingerprint256) : undefined;
  if (tls?.fingerprint256 && !pin)
    throw new Error(`${options.label}: ${key}.fingerprint256 is not a SHA-256 fingerprint`);
  const insecure = tls?.insecureSkipVerify === true;
  if (insecure) {
    options.log?.warn(
      `TLS certificate verification is OFF for ${options.label}; ${key}.insecureSkipVerify is set`,
    );
  } else if (pin) {
    options.log?.info(
      `TLS: ${options.label} is pinned to certificate SHA-256 ${pin}${tls?.caFile ? ` (and verified against ${key}.caFile)` : ' (chain and host name not checked: the pin decides)'}`,
    );
  }
  const agentOptions: https.AgentOptions = {
    keepAlive: options.keepAlive ?? true,
    ca: tls?.caFile ? readPem(tls.caFile, `${key}.caFile`, options.label) : undefined,
    cert: tls?.certFile ? readPem(tls.certFile, `${key}.certFile`, options.label) : undefined,
    key: tls?.keyFile ? readPem(tls.keyFile, `${key}.keyFile`, options.label) : undefined,
    servername: tls?.serverName,
    // a pin without a CA file replaces chain verification (self-signed certificates)
    rejectUnauthorized: !insecure && !(pin && !tls?.caFile),
  };
  if (!pin) return new https.Agent(agentOptions);

  class PinnedAgent extends https.Agent {
    override createConnection(
      connectOptions: import('node:http').RequestOptions,
      callback?: (err: Error | null, socket: import('node:stream').Duplex) => void,
    ): undefined {
      const socket = (https.Agent.prototype as any).createConnection.call(this, connectOptions) as TLSSocket;
      let settled = false;
      const settle = (err: Error | null) => {
        if (settled) return;
        settled = true;
        socket.off('error', settle);
        if (err) {
          socket.destroy();
          callback?.(err, socket);
        } else callback?.(null, socket);
      };
      socket.once('error', settle);
      socket.once('secureConnect', () => {
        const raw = socket.getPeerCertificate()?.fingerprint256;
        const got = raw ? normalizeFingerprint(raw) : undefined;
        settle(got === pin ? null : pinMismatchError(options.label, pin!, got, key));
      });
      return undefined;
    }
  }
  return new PinnedAgent({ ...agentOptions, maxCachedSessions: 0 });
}
