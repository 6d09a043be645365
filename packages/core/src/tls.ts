import { z } from 'zod';
import { ToolError } from './errors.js';

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
