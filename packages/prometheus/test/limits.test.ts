/**
 * Bounds a backend or a caller cannot push past: bytes read per answer (a fake backend streams a
 * huge body), requests in flight per instance (a backend that holds requests), query length, and
 * times or offsets out of range said as such.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from '@infra-mcp/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { prometheus } from '../src/index.js';

const servers: http.Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const MiB = 1 << 20;

describe('maxResponseBytes', () => {
  it('stops reading a huge answer at the limit and says how to narrow the query', async () => {
    const offered = 512 * MiB;
    let written = 0;
    let closedAt: number | undefined;
    let closed!: () => void;
    const done = new Promise<void>((resolve) => (closed = resolve));
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length to refuse early
      const chunk = Buffer.alloc(256 << 10, 'a');
      res.write('{"status":"success","data":{"resultType":"string","result":[0,"');
      const pump = () => {
        while (written < offered) {
          if (res.destroyed) return;
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('"]}}');
      };
      res.on('close', () => {
        closedAt = written;
        closed();
      });
      pump();
    });
    const t = await connect([prometheus({ url, maxResponseBytes: 4 * MiB })]);
    const r = await t.call('prometheus_query', { query: 'up' });
    expect(r.errorCode).toBe('response_too_large');
    expect(r.text).toMatch(/more than 4 MiB \(maxResponseBytes\); reading stopped there/);
    expect(r.text).toMatch(/narrow the query/);
    await done;
    // the client hung up: the backend could write its 4 MiB plus what the sockets buffer, not 512 MiB
    expect(closedAt!).toBeLessThan(32 * MiB);
    await t.close();
  });

  it('refuses a declared Content-Length over the limit without reading the body', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * MiB) });
      res.write('{"status":"success"');
    });
    const t = await connect([prometheus({ url, maxResponseBytes: MiB })]);
    const r = await t.call('prometheus_labels', {});
    expect(r.errorCode).toBe('response_too_large');
    await t.close();
  });
});

describe('maxConcurrentRequests', () => {
  it('holds calls beyond the limit, refuses as busy beyond 4x waiting, and runs the held ones later', async () => {
    let inFlight = 0;
    let most = 0;
    const held: (() => void)[] = [];
    const url = await listen((_req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      held.push(() => {
        inFlight--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"status":"success","data":["a"]}');
      });
    });
    // no discovery cache: five identical label reads would share one request
    const t = await connect([prometheus({ url, maxConcurrentRequests: 1 })], {
      resilience: { cache: false },
    });
    const calls = Array.from({ length: 5 }, () => t.call('prometheus_labels', {}));
    while (held.length < 1) await new Promise((r) => setTimeout(r, 5));
    // wait until the other four are queued (a fixed sleep was too short on a loaded machine)
    const client = (await t.server.registry.runtimes[0]!.client('default')) as unknown as {
      waiting: unknown[];
    };
    while (client.waiting.length < 4) await new Promise((r) => setTimeout(r, 5));
    const busy = await t.call('prometheus_labels', {});
    expect(busy.errorCode).toBe('busy');
    expect(busy.text).toMatch(/1 requests running and 4 waiting \(maxConcurrentRequests: 1\)/);
    expect(busy.text).toMatch(/retry in a few seconds/);
    // answer all five: a released slot's next request may not have reached the fake yet (loaded machine),
    // so count the answers instead of stopping when nothing is held for a moment
    for (let answered = 0; answered < 5; ) {
      const next = held.shift();
      if (next) {
        next();
        answered++;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    const results = await Promise.all(calls);
    expect(results.map((r) => r.isError)).toEqual([false, false, false, false, false]);
    expect(most).toBe(1);
    await t.close();
  });
});

describe('arguments refused at once', () => {
  it('a 1 MiB query is refused before anything is sent', async () => {
    let requests = 0;
    const url = await listen((_req, res) => {
      requests++;
      res.end();
    });
    const t = await connect([prometheus({ url })]);
    const started = Date.now();
    const r = await t.call('prometheus_query', { query: `sum(up{job="${'a'.repeat(MiB)}"})` });
    expect(r.errorCode).toBe('query_too_long');
    expect(r.text).toMatch(/query is 1 MiB; queries are limited to 64 KiB/);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(requests).toBe(0);
    await t.close();
  });

  it('a time of 1e300 is out of range, not "milliseconds"; a huge offset is out of range, not "Infinity"', async () => {
    const url = await listen((_req, res) => res.end());
    const t = await connect([prometheus({ url })]);
    const big = await t.call('prometheus_query', { query: 'up', time: 1e300 as never });
    expect(big.errorCode).toBe('bad_time');
    expect(big.text).toMatch(/is out of range/);
    expect(big.text).not.toMatch(/milliseconds/);
    const ms = await t.call('prometheus_query', { query: 'up', time: '1714564800000' });
    expect(ms.text).toMatch(/looks like milliseconds/);
    const far = await t.call('prometheus_query_range', { query: 'up', start: `now-${'9'.repeat(400)}y` });
    expect(far.errorCode).toBe('bad_time');
    expect(far.text).toMatch(/offset out of range/);
    expect(far.text).not.toMatch(/Infinity/);
    expect(far.text.length).toBeLessThan(600);
    const future = await t.call('prometheus_query', { query: 'up', time: 'now+99999y' });
    expect(future.text).toMatch(/offset out of range .*past the year 9999/);
    await t.close();
  });
});
