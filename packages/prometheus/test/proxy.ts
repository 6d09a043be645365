/**
 * A recording reverse proxy in front of the real Prometheus: a path prefix (like AMP, Mimir,
 * Thanos), optional TLS (and client certificates), auth checks, a proxy that refuses POST, and
 * injected warnings. Test-only.
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  clientCert?: string;
}

export interface ProxyOptions {
  upstream: string;
  /** Requests must start with this path (e.g. /prom/); it is stripped before forwarding. */
  prefix?: string;
  /** Answer 405 to POST (as some proxies do). */
  refusePost?: boolean;
  /** Expected Authorization header; others get 401. */
  authorization?: string;
  /** Headers that must be present with these values; others get 403. */
  requireHeaders?: Record<string, string>;
  /** Paths (after the prefix) answered with 404, like backends that lack some APIs. */
  missing?: string[];
  /** Add these warnings to successful JSON answers. */
  warnings?: string[];
  tls?: { key: string; cert: string; clientCa?: string };
  /**
   * Statuses the next requests get instead of an answer, first to last (a gateway while the
   * backend restarts: 502, 503, 504), or `drop` to close the connection; the test may push more.
   */
  fail?: (number | 'drop')[];
}

export interface TestProxy {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startProxy(opts: ProxyOptions): Promise<TestProxy> {
  const requests: Recorded[] = [];
  const prefix = opts.prefix ?? '/';
  const handler = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const peer = (
      req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } }
    ).getPeerCertificate?.();
    requests.push({
      method: req.method!,
      path: req.url!,
      headers: req.headers,
      body,
      clientCert: peer?.subject?.CN,
    });
    const send = (status: number, text: string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    };
    if (!req.url!.startsWith(prefix)) return send(404, '404 page not found');
    const failure = opts.fail?.shift();
    if (failure === 'drop') return void req.socket.destroy();
    if (failure !== undefined) return send(failure, `${failure} from the gateway`);
    if (opts.refusePost && req.method === 'POST') return send(405, 'method not allowed');
    if (opts.missing?.some((m) => req.url!.slice(prefix.length).startsWith(m)))
      return send(404, '404 page not found');
    if (opts.authorization && req.headers.authorization !== opts.authorization)
      return send(401, 'unauthorized');
    for (const [k, v] of Object.entries(opts.requireHeaders ?? {})) {
      if (req.headers[k.toLowerCase()] !== v) return send(403, `missing ${k}`);
    }
    const upstream = await fetch(`${opts.upstream}/${req.url!.slice(prefix.length)}`, {
      method: req.method,
      headers: req.headers['content-type'] ? { 'content-type': req.headers['content-type'] } : {},
      body: req.method === 'POST' ? body : undefined,
    });
    let text = await upstream.text();
    if (opts.warnings && upstream.ok) {
      const json = JSON.parse(text);
      json.warnings = opts.warnings;
      text = JSON.stringify(json);
    }
    send(upstream.status, text, upstream.headers.get('content-type') ?? 'application/json');
  };
  const server = opts.tls
    ? https.createServer(
        {
          key: opts.tls.key,
          cert: opts.tls.cert,
          ...(opts.tls.clientCa
            ? { ca: opts.tls.clientCa, requestCert: true, rejectUnauthorized: true }
            : {}),
        },
        (req, res) => void handler(req, res),
      )
    : http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}${prefix}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A self-signed certificate for `cn` (SAN IP:127.0.0.1) made with openssl: { key, cert } PEM files in `dir`. */
export async function selfSigned(dir: string, cn: string): Promise<{ keyFile: string; certFile: string }> {
  const keyFile = join(dir, `${cn}.key`);
  const certFile = join(dir, `${cn}.crt`);
  await new Promise<void>((resolve, reject) =>
    execFile(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      (err, _out, stderr) =>
        err
          ? reject(new Error(`openssl failed (needed for TLS tests): ${stderr || err.message}`))
          : resolve(),
    ),
  );
  return { keyFile, certFile };
}
