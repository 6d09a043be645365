/**
 * core's retries and breaker on the Argo CD client: a gateway in front of the Argo CD fake answers
 * 502/503 on purpose. Reads (GET) are sent again; a sync (POST) never is.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '@infra-mcp/core';
import { connect } from '@infra-mcp/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { argocd } from '../src/index.js';
import { type ArgoFake, startArgoFake } from './argocd-fake.js';

let fake: ArgoFake;
let gateway: http.Server;
let url: string;
/** Statuses the next requests of a method get from the gateway instead of Argo CD's answer. */
const fail: Record<string, number[]> = { GET: [], POST: [] };
const seen: string[] = [];
let now = Date.now();
const clock: Clock = {
  now: () => now,
  sleep: async (ms) => {
    now += ms;
  },
  random: () => 0.5,
};

beforeAll(async () => {
  fake = await startArgoFake({ apps: 5 });
  gateway = http.createServer(async (req, res) => {
    seen.push(`${req.method} ${req.url!.split('?')[0]}`);
    const failure = fail[req.method!]?.shift();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (failure) {
      res.writeHead(failure, { 'content-type': 'text/plain' }).end(`${failure} from the gateway`);
      return;
    }
    const upstream = await fetch(`${fake.url.replace(/\/$/, '')}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(
        ['authorization', 'content-type', 'accept'].flatMap((h) =>
          req.headers[h] ? [[h, String(req.headers[h])]] : [],
        ),
      ),
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
    });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
});
afterAll(async () => {
  gateway?.closeAllConnections();
  await new Promise((r) => gateway?.close(r));
  await fake?.close();
});
afterEach(() => {
  fail.GET = [];
  fail.POST = [];
  seen.length = 0;
  expect(fake.violations).toEqual([]);
});

describe('Argo CD through core backend requests', () => {
  it('a list that meets 503 is asked again and answers', async () => {
    const t = await connect([argocd({ url, token: fake.token })], { resilience: { clock } });
    fail.GET.push(503);
    const r = await t.call('argocd_apps', {});
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.total).toBe(5);
    expect(seen).toEqual(['GET /api/v1/applications', 'GET /api/v1/applications']);
    await t.close();
  });

  it('a sync (POST) that meets 502 is never sent again', async () => {
    const t = await connect([argocd({ url, token: fake.token })], { resilience: { clock } });
    fail.POST.push(502);
    const before = fake.syncs.length;
    const r = await t.call('argocd_sync', { app: 'app-001' });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/Argo CD answered 502/);
    expect(seen.filter((s) => s.startsWith('POST'))).toHaveLength(1);
    expect(fake.syncs.length).toBe(before);
    await t.close();
  });

  it('the breaker opens on repeated gateway failures and names the instance', async () => {
    const t = await connect([argocd({ url, token: fake.token })], {
      resilience: { clock, retry: false, breaker: { failures: 2, cooldownMs: 5000 } },
    });
    fail.GET.push(502, 502);
    await t.call('argocd_apps', {});
    await t.call('argocd_apps', {});
    const r = await t.call('argocd_apps', {});
    expect(r.errorCode).toBe('backend_unavailable');
    expect(r.text).toMatch(/backend argocd\/default unavailable since .* after 2 failures; retrying at /);
    expect(seen).toHaveLength(2);
    await t.close();
  });
});
