import type { ServerResponse } from 'node:http';

/**
 * Headers on every answer. Nothing this server sends is a page or meant for a cache: browsers must
 * not sniff, frame, cache or run anything from it, nor leak its URLs as referrers.
 */
const SECURITY_HEADERS: [string, string][] = [
  ['x-content-type-options', 'nosniff'],
  ['cache-control', 'no-store'],
  ['referrer-policy', 'no-referrer'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['x-frame-options', 'DENY'],
];

export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
}

/** Headers the MCP transport passes to `writeHead` (its SSE answers say `no-cache`) still get `no-store`. */
export function keepNoStore(res: ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const headers = rest.at(-1);
    if (headers && typeof headers === 'object' && !Array.isArray(headers))
      for (const name of Object.keys(headers))
        if (name.toLowerCase() === 'cache-control') delete (headers as Record<string, unknown>)[name];
    return writeHead(status, ...rest);
  }) as ServerResponse['writeHead'];
}
