import type { ServerResponse } from 'node:http';

/** Request headers a browser MCP client sends (preflight `Access-Control-Allow-Headers`). */
const ALLOW_HEADERS =
  'authorization, content-type, accept, mcp-session-id, mcp-protocol-version, last-event-id';
/** Response headers a browser MCP client must be able to read. */
const EXPOSE_HEADERS = 'mcp-session-id, mcp-protocol-version, www-authenticate, retry-after';
const ALLOW_METHODS = 'POST, GET, DELETE, OPTIONS';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * An allowed-origin pattern as a whole-value regular expression: `scheme://host[:port]`, where `*`
 * stands for any run of host-name characters (letters, digits, `.`, `-`): `https://*.example.com`,
 * `http://localhost:*`. Never a path, and never `*` alone (that would switch off the DNS-rebinding
 * protection the Origin check exists for).
 */
export function originPattern(pattern: string): RegExp {
  const p = pattern.trim().toLowerCase().replace(/\/$/, '');
  if (!/^https?:\/\/[a-z0-9.*[\]:-]+$/.test(p) || /^https?:\/\/\*?$/.test(p))
    throw new Error(
      `http.allowedOrigins: "${pattern}" is not an origin pattern (scheme://host[:port], * for any host-name characters, no path); example: https://*.example.com`,
    );
  const body = p
    .split('*')
    .map((part) => part.replace(/[.[\]]/g, '\\$&'))
    .join('[a-z0-9.-]*');
  return new RegExp(`^${body}$`);
}

/** The Origin allow-list: configured patterns, plus any loopback origin (a page served on this machine). */
export class Origins {
  private readonly patterns: RegExp[];

  constructor(allowed: readonly string[] = []) {
    this.patterns = allowed.map(originPattern);
  }

  allows(origin: string): boolean {
    const o = origin.toLowerCase();
    try {
      if (LOOPBACK.has(new URL(o).hostname)) return true;
    } catch {
      return false;
    }
    return this.patterns.some((p) => p.test(o));
  }
}

/** CORS headers for an allowed browser origin, on every answer to it. */
export function setCorsHeaders(res: ServerResponse, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', EXPOSE_HEADERS);
  res.setHeader('vary', 'Origin');
}

/** Answer a CORS preflight (OPTIONS from an allowed origin, before auth: browsers send no credentials with it). */
export function answerPreflight(res: ServerResponse): void {
  res.writeHead(204, {
    allow: ALLOW_METHODS,
    'access-control-allow-methods': ALLOW_METHODS,
    'access-control-allow-headers': ALLOW_HEADERS,
    'access-control-max-age': '600',
  });
  res.end();
}
