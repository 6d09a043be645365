import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningHttp, serveHttp } from '../src/http.js';
import { createServer, type InfraMcpServer, MemoryAuditSink } from '../src/index.js';
import { asking } from './asking-plugin.js';

// Tool-initiated elicitation and sampling over stateless Streamable HTTP: the request goes out on the
// SSE stream of the POST carrying the tool call; the client's answer comes back in a new POST.
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const TOKENS = { alice: 'alice-token-0123456789abcdef', bob: 'bob-token-0123456789abcdef00' };
let app: InfraMcpServer;
let http: RunningHttp;

beforeAll(async () => {
  app = createServer({ plugins: [asking()], audit: [new MemoryAuditSink()], logger: quiet, env: {} });
  http = await serveHttp(app, { port: 0, tokens: TOKENS });
});
afterAll(async () => {
  await http.close();
  await app.close();
});

async function sdkClient(capabilities: Record<string, unknown>, token = TOKENS.alice): Promise<Client> {
  const client = new Client({ name: 'http-asking', version: '1' }, { capabilities });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(http.url), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

const post = (body: unknown, token = TOKENS.alice, signal?: AbortSignal) =>
  fetch(http.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-11-25',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
    signal,
  });

/** JSON-RPC messages of an SSE response, as they arrive. */
async function* sse(res: Response): AsyncGenerator<any> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const data = buffer
        .slice(0, end)
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trim())
        .join('\n');
      buffer = buffer.slice(end + 2);
      if (data) yield JSON.parse(data);
      end = buffer.indexOf('\n\n');
    }
  }
}

const callTool = (id: number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

const settle = async (until: () => boolean) => {
  for (let i = 0; i < 100 && !until(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('server-to-client requests over stateless HTTP', () => {
  it('an SDK client answers an elicitation and a sampling request of one tool call', async () => {
    const client = await sdkClient({ elicitation: {}, sampling: {} });
    const ids: unknown[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (_req, extra) => {
      ids.push(extra.requestId);
      return { action: 'accept', content: { topic: 'alerting' } };
    });
    client.setRequestHandler(CreateMessageRequestSchema, async (_req, extra) => {
      ids.push(extra.requestId);
      return { role: 'assistant', content: { type: 'text', text: 'rules fire' }, model: 'm1' };
    });
    const r: any = await client.callTool({ name: 'ask_summarise', arguments: {} });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({ topic: 'alerting', summary: 'rules fire', model: 'm1' });
    // process-unique ids, not the per-request protocol server's own counter (0, 1, ...)
    expect(ids).toEqual([expect.stringMatching(/^srv-\d+$/), expect.stringMatching(/^srv-\d+$/)]);
    expect(ids[0]).not.toBe(ids[1]);
    expect(http.pendingClientRequests).toBe(0);
    await client.close();
  });

  it('concurrent calls each get their own answer', async () => {
    const client = await sdkClient({ elicitation: {} });
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      await new Promise((r) => setTimeout(r, Math.random() * 30)); // answers arrive out of order
      return { action: 'accept', content: { name: req.params.message } };
    });
    const names = Array.from({ length: 8 }, (_, i) => `user-${i}`);
    const results: any[] = await Promise.all(
      names.map((message) => client.callTool({ name: 'ask_form', arguments: { message } })),
    );
    expect(results.map((r) => r.structuredContent.content.name)).toEqual(names);
    expect(http.pendingClientRequests).toBe(0);
    await client.close();
  });

  it('offers ctx.elicit without a known capability; a client without it fails the call clearly', async () => {
    // stateless: the client's initialize went to another request, so the capability is unknown here
    const client = await sdkClient({});
    const offers: any = await client.callTool({ name: 'ask_offers', arguments: {} });
    expect(offers.structuredContent).toEqual({ elicit: true, sample: true });
    const r: any = await client.callTool({ name: 'ask_form', arguments: { message: 'hi' } });
    expect(r.isError).toBe(true);
    expect(r._meta['infra-mcp/error'].code).toBe('client_unsupported');
    expect(http.pendingClientRequests).toBe(0);
    await client.close();
  });

  it('sends the request on the POST that carries the call, and takes the answer only from the same caller', async () => {
    const res = await post(callTool(7, 'ask_form', { message: 'Name?' }));
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const stream = sse(res);
    const request = (await stream.next()).value;
    expect(request).toMatchObject({
      method: 'elicitation/create',
      id: expect.stringMatching(/^srv-\d+$/),
      params: { message: 'Name?' },
    });
    expect(http.pendingClientRequests).toBe(1);
    const answer = { jsonrpc: '2.0', id: request.id, result: { action: 'accept', content: { name: 'Bo' } } };

    const asBob = await post(answer, TOKENS.bob);
    expect(asBob.status).toBe(400);
    expect(((await asBob.json()) as any).error.message).toMatch(
      /no pending server request with id "srv-\d+"/,
    );
    const asAlice = await post(answer);
    expect(asAlice.status).toBe(202);
    const result = (await stream.next()).value;
    expect(result).toMatchObject({
      id: 7,
      result: { structuredContent: { action: 'accept', content: { name: 'Bo' } } },
    });
    expect(http.pendingClientRequests).toBe(0);

    const again = await post(answer);
    expect(again.status).toBe(400);
    const error = ((await again.json()) as any).error;
    expect(error.code).toBe(-32600);
    expect(error.message).toMatch(/sticky routing/);
  });

  it('rejects an answer to an id nothing waits for', async () => {
    const res = await post({ jsonrpc: '2.0', id: 'srv-999999', result: { action: 'cancel' } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toMatch(
      /"srv-999999".*ended, or it was sent by another replica/,
    );
    const numeric = await post({ jsonrpc: '2.0', id: 0, result: {} });
    expect(numeric.status).toBe(400);
  });

  it('tells the client by its id when the tool gives up (timeout), and forgets the request', async () => {
    const res = await post(callTool(8, 'ask_slow_form', { message: 'anyone?' }));
    const seen: any[] = [];
    for await (const m of sse(res)) seen.push(m);
    const [request, cancelled, result] = seen;
    expect(request.method).toBe('elicitation/create');
    expect(cancelled).toMatchObject({ method: 'notifications/cancelled', params: { requestId: request.id } });
    expect(result).toMatchObject({ id: 8, result: { isError: true } });
    expect(result.result._meta['infra-mcp/error'].code).toBe('timeout');
    expect(http.pendingClientRequests).toBe(0);
    const late = await post({ jsonrpc: '2.0', id: request.id, result: { action: 'decline' } });
    expect(late.status).toBe(400);
  });

  it('forgets the pending request when the client drops the POST that carries the call', async () => {
    const abort = new AbortController();
    const res = await post(callTool(9, 'ask_form', { message: 'still there?' }), TOKENS.alice, abort.signal);
    const request = (await sse(res).next()).value;
    expect(http.pendingClientRequests).toBe(1);
    abort.abort();
    await settle(() => http.pendingClientRequests === 0);
    expect(http.pendingClientRequests).toBe(0);
    const late = await post({ jsonrpc: '2.0', id: request.id, result: { action: 'decline' } });
    expect(late.status).toBe(400);
  });

  it('takes the answer of an in-flight call during graceful shutdown', async () => {
    const own = createServer({ plugins: [asking()], audit: [new MemoryAuditSink()], logger: quiet, env: {} });
    const server = await serveHttp(own, { port: 0 });
    const send = (body: unknown) =>
      fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(body),
      });
    const stream = sse(await send(callTool(1, 'ask_form', { message: 'Name?' })));
    const request = (await stream.next()).value;
    const closed = server.close();
    const refused = await send(callTool(2, 'ask_offers'));
    expect(refused.status).toBe(503);
    const answer = await send({
      jsonrpc: '2.0',
      id: request.id,
      result: { action: 'accept', content: { name: 'Cy' } },
    });
    expect(answer.status).toBe(202);
    expect((await stream.next()).value).toMatchObject({
      id: 1,
      result: { structuredContent: { action: 'accept' } },
    });
    await closed;
    await own.close();
  });
});
