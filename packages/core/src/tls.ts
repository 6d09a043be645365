import { readFileSync } from 'node:fs';
import type https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { z } from 'zod';
import { ToolError } from './errors.js';
import type { Logger } from './log.js';

const HEX64 = /^[0-9a-f]{64}$/;

/** `AB:CD:...` (upper case, colons: the form `openssl x509 -fingerprint -sha256` and Node print) or undefined when not 64 hex digits. */
export function normalizeFingerprint(value: string): string | undefined {
  const hex = value
    .trim()
    .replace(/^sha256\s*fingerprint\s*=\s*/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  if (!HEX64.test(hex)) return undefined;
  return hex.toUpperCase().match(/../g)!.join(':');
}

/**
 * TLS options of a backend, for a plugin's config (`tls: tlsOptionsSchema.optional()`).
 * Verification is on by default with the system CAs. `caFile` replaces them; `fingerprint256`
 * pins the server's leaf certificate (self-signed certificates work: with a pin and no `caFile`,
 * the pin alone decides, so neither the chain nor the host name is checked); `insecureSkipVerify`
 * turns verification off and is logged as a warning when the agent is made.
 */
export const tlsOptionsSchema = z
  .strictObject({
    caFile: z
      .string()
      .optional()
      .describe('PEM file of CA certificates to trust (replaces the system roots)'),
    certFile: z.string().optional().describe('Client certificate (PEM) for mutual TLS'),
    keyFile: z.string().optional().describe('Client private key (PEM) for mutual TLS'),
    serverName: z.string().optional().describe('TLS server name (SNI) when it differs from the URL host'),
    fingerprint256: z
      .string()
      .refine((v) => normalizeFingerprint(v) !== undefined, {
        message:
          'must be a SHA-256 certificate fingerprint: 64 hex digits, with or without colons (openssl x509 -noout -fingerprint -sha256 -in server.crt)',
      })
      .optional()
      .describe(
        "Pinned SHA-256 fingerprint of the server's certificate (hex, colons optional); the connection is refused unless it matches",
      ),
    insecureSkipVerify: z
      .boolean()
      .default(false)
      .describe('Turn certificate verification off (logged; never the default)'),
  })
  .superRefine((tls, ctx) => {
    if (tls.insecureSkipVerify && tls.fingerprint256) {
      ctx.addIssue({
        code: 'custom',
        path: ['insecureSkipVerify'],
        message:
          'insecureSkipVerify and fingerprint256 contradict each other: a pin is a verification; drop one',
      });
    }
    if (!tls.certFile !== !tls.keyFile) {
      ctx.addIssue({
        code: 'custom',
        path: [tls.certFile ? 'keyFile' : 'certFile'],
        message: 'mutual TLS needs both certFile and keyFile',
      });
    }
  });

export type TlsOptions = z.input<typeof tlsOptionsSchema>;

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

/** Error of a connection refused because the certificate does not match the pin. */
export function pinMismatchError(
  label: string,
  expected: string,
  got: string | undefined,
  key = 'tls',
): ToolError {
  return new ToolError(
    'tls_error',
    `TLS certificate pin mismatch for ${label}: expected SHA-256 ${expected}, got ${got ?? '(no certificate)'}`,
    `the server presents another certificate than the one pinned in ${key}.fingerprint256: if it was renewed on purpose, pin the new fingerprint; otherwise something is in between`,
    { expected, got },
  );
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
