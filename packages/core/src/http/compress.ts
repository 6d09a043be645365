import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants, createGzip, type Gzip } from 'node:zlib';

/** Bodies worth compressing: JSON answers and SSE streams (the MCP transport's two forms). */
const COMPRESSIBLE = /^\s*(application\/json|text\/event-stream)\b/i;

/** Whether an Accept-Encoding header admits gzip (`gzip` or `*`, with a q-value above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) : 1;
    if (name === 'gzip' || name === 'x-gzip') gzip = q;
    else if (name === '*') any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}

type WriteHeadArgs = [number, ...unknown[]];
type Chunk = string | Uint8Array;

/** The header record among `writeHead`'s arguments (status, [message], [headers]), made if absent. */
function headersOf(args: WriteHeadArgs): OutgoingHttpHeaders {
  const last = args.at(-1);
  if (args.length > 1 && last && typeof last === 'object' && !Array.isArray(last))
    return last as OutgoingHttpHeaders;
  const made: OutgoingHttpHeaders = {};
  args.push(made);
  return made;
}

function headerValue(headers: OutgoingHttpHeaders, res: ServerResponse, name: string): string {
  for (const [k, v] of Object.entries(headers))
    if (k.toLowerCase() === name && v !== undefined) return String(v);
  return String(res.getHeader(name) ?? '');
}

/**
 * gzip for answers to clients that accept it. The choice is made at the first body chunk: a JSON or
 * SSE body whose first chunk is at least `threshold` bytes goes out compressed (a JSON answer is one
 * chunk; an SSE stream is judged by its first event, usually the tool result). Every SSE event is
 * flushed as it is written (Z_SYNC_FLUSH), so streaming, progress and elicitation are not held back.
 * Headers wait for that first chunk (the transport's early flush of SSE headers is deferred to it).
 */
export class Compression {
  private responses = 0;
  private bytesIn = 0;
  private bytesOut = 0;

  constructor(readonly threshold = 1024) {
    if (!Number.isInteger(threshold) || threshold < 0)
      throw new Error(
        `http.compressMinBytes: expected a whole number of bytes >= 0, got ${threshold}; example: 1024`,
      );
  }

  /** Compress `res` where `req` allows it (a no-op otherwise). Call before anything is written. */
  wrap(req: IncomingMessage, res: ServerResponse): void {
    if (!acceptsGzip(req.headers['accept-encoding']) || req.method === 'HEAD') return;
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    const flushHeaders = res.flushHeaders.bind(res);
    let head: WriteHeadArgs | undefined;
    const restore = () => {
      res.writeHead = writeHead as ServerResponse['writeHead'];
      res.flushHeaders = flushHeaders;
      res.write = write as ServerResponse['write'];
      res.end = end as ServerResponse['end'];
    };
    const decide = (chunk: unknown, encoding: unknown) => {
      restore();
      const headers = head ? headersOf(head) : {};
      const status = head?.[0] ?? res.statusCode;
      const size =
        typeof chunk === 'string'
          ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : chunk instanceof Uint8Array
            ? chunk.byteLength
            : 0;
      const eligible =
        size >= this.threshold &&
        size > 0 &&
        status >= 200 &&
        status !== 204 &&
        status !== 304 &&
        COMPRESSIBLE.test(headerValue(headers, res, 'content-type')) &&
        !headerValue(headers, res, 'content-encoding');
      if (eligible) this.gzipOnto(res, headers, write, end);
      if (head) writeHead(...head);
      else
        for (const [name, value] of Object.entries(headers))
          if (value !== undefined) res.setHeader(name, value);
    };
    res.writeHead = ((...args: WriteHeadArgs) => {
      head = args;
      return res;
    }) as ServerResponse['writeHead'];
    res.flushHeaders = () => {}; // until the first chunk says whether the body is compressed
    res.write = ((chunk: Chunk, ...rest: unknown[]) => {
      decide(chunk, rest[0]);
      return (res.write as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      decide(typeof chunk === 'function' ? undefined : chunk, rest[0]);
      return (res.end as (...args: unknown[]) => ServerResponse)(chunk, ...rest);
    }) as ServerResponse['end'];
  }

  /** Route the body through gzip: headers say so, every write is flushed, end ends the gzip stream. */
  private gzipOnto(
    res: ServerResponse,
    headers: OutgoingHttpHeaders,
    write: (...args: unknown[]) => boolean,
    end: (...args: unknown[]) => ServerResponse,
  ): void {
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'content-length') delete headers[k];
    res.removeHeader('content-length');
    headers['content-encoding'] = 'gzip';
    const vary = headerValue(headers, res, 'vary');
    for (const k of Object.keys(headers)) if (k.toLowerCase() === 'vary') delete headers[k];
    headers.vary = vary ? `${vary}, Accept-Encoding` : 'Accept-Encoding';
    this.responses++;
    const gzip: Gzip = createGzip();
    gzip.on('data', (c: Buffer) => {
      this.bytesOut += c.length;
      write(c);
    });
    gzip.on('end', () => end());
    gzip.on('error', () => res.destroy());
    res.once('close', () => gzip.destroy());
    const feed = (chunk: unknown, encoding: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const buf =
        typeof chunk === 'string'
          ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
          : Buffer.from(chunk as Uint8Array);
      this.bytesIn += buf.length;
      gzip.write(buf);
    };
    res.write = ((chunk: unknown, encoding?: unknown, cb?: unknown) => {
      feed(chunk, encoding);
      const done = typeof encoding === 'function' ? encoding : cb;
      gzip.flush(constants.Z_SYNC_FLUSH, () => (done as (() => void) | undefined)?.());
      return true;
    }) as ServerResponse['write'];
    res.end = ((chunk?: unknown, encoding?: unknown, cb?: unknown) => {
      feed(chunk, encoding);
      const done = [chunk, encoding, cb].find((a) => typeof a === 'function') as (() => void) | undefined;
      if (done) res.once('finish', done);
      gzip.end();
      return res;
    }) as ServerResponse['end'];
  }

  render(): string {
    return [
      '# HELP infra_mcp_http_gzip_responses_total HTTP answers sent gzip-compressed.',
      '# TYPE infra_mcp_http_gzip_responses_total counter',
      `infra_mcp_http_gzip_responses_total ${this.responses}`,
      '# HELP infra_mcp_http_gzip_input_bytes_total Bytes of answer bodies before gzip.',
      '# TYPE infra_mcp_http_gzip_input_bytes_total counter',
      `infra_mcp_http_gzip_input_bytes_total ${this.bytesIn}`,
      '# HELP infra_mcp_http_gzip_saved_bytes_total Bytes gzip kept off the wire (input minus output).',
      '# TYPE infra_mcp_http_gzip_saved_bytes_total counter',
      `infra_mcp_http_gzip_saved_bytes_total ${this.bytesIn - this.bytesOut}`,
      '',
    ].join('\n');
  }
}
