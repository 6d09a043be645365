/**
 * Test-only stand-in for Amazon Managed Prometheus: a loopback HTTP proxy that verifies every
 * request's SigV4 signature with AWS's own signer (@smithy/signature-v4), answers 403 like AWS
 * when it does not match, and forwards good data-plane requests under `/workspaces/<id>/` to an
 * upstream (a real Prometheus). It also fakes the AMP control plane's `GET /workspaces`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface ProxyCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface FakeWorkspace {
  workspaceId: string;
  alias?: string;
  status?: string;
  createdAt?: number;
}

export interface Sigv4ProxyOptions {
  /** Base URL of the upstream Prometheus. */
  upstream: string;
  /** The one key pair (and session token) the proxy accepts. */
  credentials: ProxyCredentials;
  region: string;
  service?: string;
  /** Workspace id whose data plane is `/workspaces/<id>/...` (default ws-test). */
  workspaceId?: string;
  /** Control plane: answers for `GET /workspaces`. */
  workspaces?: FakeWorkspace[];
  /** Largest accepted difference between X-Amz-Date and now (AWS: 5 minutes). */
  maxSkewMs?: number;
}

export interface ProxyLogEntry {
  method: string;
  path: string;
  status: number;
  /** Why it was refused, or "forwarded" / "control-plane". */
  outcome: string;
  signedHeaders?: string[];
}

export interface Sigv4Proxy {
  url: string;
  log: ProxyLogEntry[];
  close(): Promise<void>;
}

const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Query pairs as AWS reads them: split on & and the first =, percent-decoded, "+" taken literally. */
function parseQuery(search: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const part of search.replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function amzDateToDate(v: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v);
  if (!m)
    throw new Refusal(
      403,
      'IncompleteSignatureException',
      `X-Amz-Date ${v} is not in the form YYYYMMDDTHHMMSSZ`,
    );
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

async function verify(
  req: http.IncomingMessage,
  body: Buffer,
  opts: Required<Pick<Sigv4ProxyOptions, 'region' | 'service' | 'maxSkewMs'>> & {
    credentials: ProxyCredentials;
  },
): Promise<string[]> {
  const auth = req.headers.authorization;
  if (!auth) throw new Refusal(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = AUTH_RE.exec(auth);
  if (!m)
    throw new Refusal(
      403,
      'IncompleteSignatureException',
      `Authorization header is not a SigV4 header: ${auth.slice(0, 40)}...`,
    );
  const [, keyId, scopeDate, region, service, signedHeaderList, signature] = m as unknown as string[];
  if (keyId !== opts.credentials.accessKeyId) {
    throw new Refusal(
      403,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  if (region !== opts.region || service !== opts.service) {
    throw new Refusal(
      403,
      'InvalidSignatureException',
      `Credential should be scoped to a valid region/service: expected ${opts.region}/${opts.service}, got ${region}/${service}`,
    );
  }
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const date = amzDateToDate(amzDate);
  if (amzDate.slice(0, 8) !== scopeDate)
    throw new Refusal(403, 'InvalidSignatureException', 'Date in Credential scope does not match X-Amz-Date');
  if (Math.abs(Date.now() - date.getTime()) > opts.maxSkewMs) {
    throw new Refusal(
      403,
      'InvalidSignatureException',
      'Signature expired: X-Amz-Date is too far from the server time',
    );
  }
  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
    throw new Refusal(403, 'IncompleteSignatureException', 'host and x-amz-date must be signed');
  }
  if (
    opts.credentials.sessionToken &&
    req.headers['x-amz-security-token'] !== opts.credentials.sessionToken
  ) {
    throw new Refusal(
      403,
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  const contentSha = req.headers['x-amz-content-sha256'];
  if (typeof contentSha === 'string' && contentSha !== createHash('sha256').update(body).digest('hex')) {
    throw new Refusal(
      400,
      'XAmzContentSHA256Mismatch',
      'The provided x-amz-content-sha256 header does not match what was computed.',
    );
  }

  // Re-sign what arrived, with the known secret and the request's own date and signed headers.
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined)
      throw new Refusal(403, 'InvalidSignatureException', `signed header ${name} is missing`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const signer = new SignatureV4({
    service: opts.service,
    region: opts.region,
    credentials: opts.credentials,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: String(req.headers.host ?? ''),
      path: q < 0 ? target : target.slice(0, q),
      query: q < 0 ? {} : parseQuery(target.slice(q)),
      headers,
      body: body.length > 0 ? body : undefined,
    },
    { signingDate: date, signableHeaders: new Set(signedHeaders), unsignableHeaders: new Set() },
  );
  const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization))![1]!;
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature!))) {
    throw new Refusal(403, 'InvalidSignatureException', SIGNATURE_MISMATCH);
  }
  return signedHeaders;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...extra,
  });
  res.end(text);
}

function controlPlane(url: URL, workspaces: FakeWorkspace[], region: string): unknown {
  const alias = url.searchParams.get('alias');
  const max = Number(url.searchParams.get('maxResults') ?? 100);
  const start = Number(url.searchParams.get('nextToken') ?? 0);
  const matching = workspaces.filter((w) => !alias || (w.alias ?? '').startsWith(alias));
  const page = matching.slice(start, start + max);
  return {
    workspaces: page.map((w) => ({
      alias: w.alias,
      arn: `arn:aws:aps:${region}:123456789012:workspace/${w.workspaceId}`,
      createdAt: w.createdAt ?? 1_700_000_000.123,
      status: { statusCode: w.status ?? 'ACTIVE' },
      tags: {},
      workspaceId: w.workspaceId,
    })),
    ...(start + max < matching.length ? { nextToken: String(start + max) } : {}),
  };
}

export async function startSigv4Proxy(options: Sigv4ProxyOptions): Promise<Sigv4Proxy> {
  const upstream = new URL(options.upstream);
  const prefix = `/workspaces/${options.workspaceId ?? 'ws-test'}/`;
  const verifyOpts = {
    credentials: options.credentials,
    region: options.region,
    service: options.service ?? 'aps',
    maxSkewMs: options.maxSkewMs ?? 5 * 60_000,
  };
  const log: ProxyLogEntry[] = [];
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    try {
      const body = await readBody(req);
      const signedHeaders = await verify(req, body, verifyOpts);
      const url = new URL(path, 'http://proxy');
      if (method === 'GET' && url.pathname === '/workspaces') {
        log.push({ method, path, status: 200, outcome: 'control-plane', signedHeaders });
        return sendJson(res, 200, controlPlane(url, options.workspaces ?? [], options.region));
      }
      if (!url.pathname.startsWith(prefix)) {
        log.push({ method, path, status: 404, outcome: 'no such workspace', signedHeaders });
        return sendJson(
          res,
          404,
          { message: `Workspace not found for path ${url.pathname}` },
          { 'x-amzn-errortype': 'ResourceNotFoundException' },
        );
      }
      // Forward: strip /workspaces/<id>, drop the AWS headers, keep method, query and body.
      const headers: http.OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (k === 'host' || k === 'authorization' || k.startsWith('x-amz-') || k === 'connection') continue;
        headers[k] = v;
      }
      const forward = http.request(
        {
          protocol: upstream.protocol,
          hostname: upstream.hostname,
          port: upstream.port,
          method,
          path: `${upstream.pathname.replace(/\/$/, '')}/${path.slice(prefix.length)}`,
          headers,
          agent,
        },
        (up) => {
          log.push({ method, path, status: up.statusCode ?? 0, outcome: 'forwarded', signedHeaders });
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on('error', (err) => {
        log.push({ method, path, status: 502, outcome: `upstream error: ${err.message}` });
        sendJson(res, 502, { message: `upstream error: ${err.message}` });
      });
      forward.end(body);
    } catch (err) {
      if (err instanceof Refusal) {
        log.push({ method, path, status: err.status, outcome: `${err.type}: ${err.message}` });
        return sendJson(res, err.status, { message: err.message }, { 'x-amzn-errortype': err.type });
      }
      log.push({ method, path, status: 500, outcome: `proxy error: ${(err as Error).message}` });
      sendJson(res, 500, { message: (err as Error).message });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
