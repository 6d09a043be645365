/**
 * AWS Signature Version 4 for Amazon Managed Service for Prometheus (AMP), signed with `aws4`.
 *
 * Checked against the aws-c-auth known-answer suite (test/sigv4.test.ts) and, end to end, against
 * AWS's own signer (`@smithy/signature-v4`) in a verifying proxy (test/sigv4-e2e.test.ts).
 */
import { createHash } from 'node:crypto';
import aws4 from 'aws4';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignOptions {
  region: string;
  service: string;
  credentials: AwsCredentials;
  /** Signing time (default: now). Sets X-Amz-Date. */
  date?: Date;
  /**
   * Add and sign `X-Amz-Content-Sha256` (the body hash). aws4 does this on its own for S3 only;
   * AMP does not need it. Default false.
   */
  signBody?: boolean;
  /**
   * Send the session token without signing it (added after signing). A few services want this;
   * AMP signs it like everything else. Default false.
   */
  unsignedSessionToken?: boolean;
}

/** A request exactly as it goes on the wire: the path is the raw request-target (path + query). */
export interface RawRequest {
  method: string;
  host: string;
  /** Request-target, e.g. `/workspaces/ws-1/api/v1/query?query=up`. Not normalised by us. */
  path: string;
  /** Header names in any case; duplicate headers must already be joined into one value with ",". */
  headers: Record<string, string>;
  body?: string;
}

export interface SignedRaw {
  /** Every header to send (the request's own, plus Host, X-Amz-Date, Authorization, ...). */
  headers: Record<string, string>;
  /** The request-target aws4 signed; send exactly this (query re-encoded strictly, %20 for spaces). */
  path: string;
  canonicalRequest: string;
  stringToSign: string;
  authorization: string;
  signature: string;
}

/** `20150830T123600Z` */
export function amzDate(date: Date): string {
  return date.toISOString().replace(/[:-]|\.\d{3}/g, '');
}

const ADDED_HEADER_NAMES: [string, string][] = [
  ['host', 'Host'],
  ['authorization', 'Authorization'],
  ['x-amz-date', 'X-Amz-Date'],
  ['x-amz-security-token', 'X-Amz-Security-Token'],
  ['x-amz-content-sha256', 'X-Amz-Content-Sha256'],
  ['content-type', 'Content-Type'],
  ['content-length', 'Content-Length'],
];

function sha256Hex(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/**
 * Sign a raw request with aws4 and expose the intermediate strings (for the known-answer tests
 * and for debugging signature mismatches).
 */
export function signRaw(req: RawRequest, opts: SignOptions): SignedRaw {
  const headers: Record<string, string> = {};
  const names = new Map<string, string>(ADDED_HEADER_NAMES);
  for (const [name, value] of Object.entries(req.headers)) {
    const key = name.toLowerCase();
    names.set(key, name);
    headers[key] = key in headers ? `${headers[key]},${value}` : value;
  }
  if (!('host' in headers)) headers.host = req.host;
  if (opts.date) headers['x-amz-date'] = amzDate(opts.date);
  if (opts.signBody && !('x-amz-content-sha256' in headers)) {
    headers['x-amz-content-sha256'] = sha256Hex(req.body ?? '');
  }
  // aws4 reads an explicit X-Amz-Security-Token header in preference to the credentials' token.
  const { sessionToken, ...keys } = opts.credentials;
  const credentials = opts.unsignedSessionToken || !sessionToken ? keys : opts.credentials;
  if (opts.unsignedSessionToken) delete headers['x-amz-security-token'];

  const signer = new aws4.RequestSigner(
    {
      method: req.method.toUpperCase(),
      host: req.host,
      path: req.path,
      headers,
      body: req.body,
      service: opts.service,
      region: opts.region,
    },
    credentials,
  );
  const canonicalRequest = signer.canonicalString();
  const stringToSign = signer.stringToSign();
  const signed = signer.sign();
  // Header names as the caller wrote them; the ones aws4 or we add in their usual spelling.
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    const key = name.toLowerCase();
    if (value !== undefined)
      out[names.get(key) ?? name] = Array.isArray(value) ? value.join(',') : String(value);
  }
  if (opts.unsignedSessionToken && sessionToken) out['X-Amz-Security-Token'] = sessionToken;
  const authorization = out.Authorization!;
  return {
    headers: out,
    path: signed.path ?? req.path,
    canonicalRequest,
    stringToSign,
    authorization,
    signature: authorization.slice(authorization.lastIndexOf('Signature=') + 'Signature='.length),
  };
}

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Sign a request and return the headers to send: the request's headers plus Authorization,
 * X-Amz-Date, X-Amz-Security-Token (temporary credentials), Content-Type/Content-Length (when a
 * body is given without them) and X-Amz-Content-Sha256 (only where aws4 sets it, or `signBody`).
 * Host is signed as `url.host` but not returned unless the caller passed one (fetch sets it).
 * The URL's base path is kept as is (AMP: `/workspaces/ws-.../api/v1/query`).
 *
 * The query must be encoded strictly (%20 for spaces, not "+"), or AWS computes another
 * canonical query than aws4: use {@link prepareSignedRequest}, which returns the URL to send.
 */
export function signRequest(req: SignableRequest, opts: SignOptions): Record<string, string> {
  return prepareSignedRequest(req, opts).headers;
}

/** Sign a request; returns the URL to send (query re-encoded the way it was signed) and the headers. */
export function prepareSignedRequest(
  req: SignableRequest,
  opts: SignOptions,
): { url: URL; headers: Record<string, string> } {
  const callerHasHost = Object.keys(req.headers).some((h) => h.toLowerCase() === 'host');
  const signed = signRaw(
    {
      method: req.method,
      host: req.url.host,
      path: req.url.pathname + req.url.search,
      headers: req.headers,
      body: req.body,
    },
    opts,
  );
  const headers = signed.headers;
  if (!callerHasHost) delete headers.Host;
  const url = new URL(req.url);
  const q = signed.path.indexOf('?');
  url.pathname = q < 0 ? signed.path : signed.path.slice(0, q);
  url.search = q < 0 ? '' : signed.path.slice(q);
  return { url, headers };
}
