/** The Argo CD tools against a fake bound to Argo CD's own OpenAPI description (test/argocd-fake.ts). */
import { connect, type TestClient } from '@infra-mcp/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { argocd } from '../src/index.js';
import { type ArgoFake, startArgoFake } from './argocd-fake.js';

let fake: ArgoFake;
let t: TestClient;

beforeAll(async () => {
  fake = await startArgoFake({ apps: 200 });
  t = await connect([argocd({ url: fake.url, token: fake.token, pollIntervalMs: 10 })]);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
// every request the plugin sent is declared in swagger.json (path, method, query, body)
afterEach(() => {
  expect(fake.violations).toEqual([]);
  expect(fake.requests.every((r) => r.template)).toBe(true);
});

const bytes = (r: { raw: unknown }) => {
  const raw = r.raw as { structuredContent: unknown; content: { text: string }[] };
  return Buffer.byteLength(JSON.stringify(raw.structuredContent)) + Buffer.byteLength(raw.content[0]!.text);
};

describe('argocd_apps', () => {
  it('200 apps in at most 80 bytes each, asking the API only for the fields shown', async () => {
    const r = await t.call('argocd_apps', { maxBytes: 32_768 });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.total).toBe(200);
    expect(r.structured.apps).toHaveLength(200);
    expect(bytes(r) / 200).toBeLessThanOrEqual(80);
    console.error(`argocd_apps: ${bytes(r)} B for 200 apps (${(bytes(r) / 200).toFixed(1)} B/app)`);
    const req = fake.requests.at(-1)!;
    expect(req.template).toBe('/api/v1/applications');
    expect(req.query).toContain('fields');
    // needing attention in full; the rest by name
    expect(r.text).toMatch(/^app-003 {2}platform {2}OutOfSync {2}Healthy {2}team-3@in-cluster$/m);
    expect(r.text).toMatch(/Synced\+Healthy: app-001, app-002, app-004/);
  });

  it('pages within a small budget with a cursor, no app lost or repeated', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await t.call('argocd_apps', { maxBytes: 2048, ...(cursor ? { cursor } : {}) });
      expect(r.isError, r.text).toBe(false);
      expect(bytes(r)).toBeLessThanOrEqual(2048);
      seen.push(...r.structured.apps.map((a: string[]) => a[0]));
      cursor = r.structured.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(seen).toHaveLength(200);
    expect(new Set(seen).size).toBe(200);
    expect(pages).toBeGreaterThan(3);
  });

  it('filters by project (sent to the API), sync and health', async () => {
    const r = await t.call('argocd_apps', { project: 'platform', sync: 'OutOfSync' });
    expect(fake.requests.at(-1)!.query).toContain('projects');
    expect(r.structured.apps.every((a: string[]) => a[1] === 'platform' && a[2] === 'OutOfSync')).toBe(true);
    expect(r.structured.total).toBeGreaterThan(0);
  });
});

describe('argocd_app', () => {
  it('summarises the resource tree and lists out-of-sync resources', async () => {
    const r = await t.call('argocd_app', { app: 'app-003' });
    expect(r.structured).toMatchObject({ name: 'app-003', sync: 'OutOfSync', health: 'Healthy' });
    expect(r.structured.tree).toMatchObject({ nodes: 16, kinds: { ConfigMap: 4, Deployment: 4, Pod: 8 } });
    expect(r.structured.outOfSync).toEqual([
      { resource: 'ConfigMap/team-3/app-003-r0', status: 'OutOfSync', requiresPruning: true },
      { resource: 'Deployment/team-3/app-003-r1', status: 'OutOfSync', requiresPruning: false },
    ]);
    expect(bytes(r)).toBeLessThan(2500);
  });
  it('a degraded app names its unhealthy nodes', async () => {
    const r = await t.call('argocd_app', { app: 'app-007' });
    expect(r.structured.tree.unhealthy).toEqual([
      { resource: 'Deployment/team-0/app-007-r1', health: 'Degraded' },
    ]);
  });
  it('404 is an error, never a success', async () => {
    const r = await t.call('argocd_app', { app: 'nope' });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('not_found');
    expect(r.text).toMatch(/answered 404.*"nope" not found/);
  });
  it('a wrong token is an error naming the config key, and the token never shows', async () => {
    const t2 = await connect([argocd({ url: fake.url, token: 'wrong-token-abcdef' })]);
    const r = await t2.call('argocd_app', { app: 'app-001' });
    expect(r.errorCode).toBe('unauthorized');
    expect(r.text).toMatch(/plugins\.argocd\.token/);
    await t2.close();
  });
});

describe('argocd_sync', () => {
  it('dry run first (Argo CD dryRun), nothing synced; the approval syncs and waits', async () => {
    const before = fake.syncs.length;
    const dry = await t.call('argocd_sync', { app: 'app-013' });
    expect(dry.structured).toMatchObject({
      dryRun: true,
      summary: 'sync app-013 to HEAD: 2 resources out of sync',
    });
    expect(dry.text).toMatch(/left \(prune not asked\) ConfigMap\/team-6\/app-013-r0/);
    expect(fake.syncs.slice(before).every((s) => s.dryRun === true)).toBe(true);
    expect(fake.apps.get('app-013')!.status.sync.status).toBe('OutOfSync');
    const done = await t.call('argocd_sync', { app: 'app-013', approval: dry.structured.approval });
    expect(done.isError, done.text).toBe(false);
    expect(done.structured.result).toMatchObject({ phase: 'Succeeded' });
    const real = fake.syncs.filter((s) => s.app === 'app-013' && !s.dryRun);
    expect(real).toEqual([{ app: 'app-013', name: 'app-013', dryRun: false, prune: false }]);
    // not pruned: the resource that needs pruning is still there
    expect(fake.apps.get('app-013')!.status.resources).toHaveLength(8);
  });

  it('prune only through argocd_sync_prune (destructive)', async () => {
    const tools = await t.listTools();
    expect(
      tools.find((x: { name: string }) => x.name === 'argocd_sync_prune').annotations.destructiveHint,
    ).toBe(true);
    expect(tools.find((x: { name: string }) => x.name === 'argocd_sync').annotations.destructiveHint).toBe(
      false,
    );
    const dry = await t.call('argocd_sync_prune', { app: 'app-023' });
    expect(dry.text).toMatch(/^prune +ConfigMap\/team-2\/app-023-r0/m);
    const done = await t.call('argocd_sync_prune', { app: 'app-023', approval: dry.structured.approval });
    expect(done.isError, done.text).toBe(false);
    expect(fake.apps.get('app-023')!.status.resources).toHaveLength(7);
  });

  it('a 400 from Argo CD (unknown revision) is an error at the dry run', async () => {
    const r = await t.call('argocd_sync', { app: 'app-001', revision: 'does-not-exist' });
    expect(r.errorCode).toBe('bad_request');
    expect(r.text).toMatch(/answered 400.*revision does-not-exist must be resolved/);
  });

  it('apps outside the allow-list are refused before any request', async () => {
    const t2 = await connect([argocd({ url: fake.url, token: fake.token, allow: { app: ['team-*'] } })]);
    const n = fake.requests.length;
    const r = await t2.call('argocd_sync', { app: 'app-001' });
    expect(r.errorCode).toBe('denied_by_policy');
    expect(fake.requests.length).toBe(n);
    await t2.close();
  });
});

describe('argocd_refresh and argocd_rollback', () => {
  it('refresh asks for a (hard) refresh', async () => {
    const r = await t.call('argocd_refresh', { app: 'app-001', hard: true });
    expect(r.structured).toMatchObject({ name: 'app-001', sync: 'Synced' });
    expect(fake.requests.at(-1)!.query).toEqual(['refresh']);
  });
  it('rollback previews from/to, then rolls back', async () => {
    const dry = await t.call('argocd_rollback', { app: 'app-002', id: 1 });
    expect(dry.structured.summary).toBe(
      'roll app-002 back from aaaaaaaa to bbbbbbbb (deployment #1, 2026-11-01T10:00:00Z)',
    );
    expect(fake.apps.get('app-002')!.status.sync.revision).toBe('a'.repeat(40));
    const done = await t.call('argocd_rollback', {
      app: 'app-002',
      id: 1,
      approval: dry.structured.approval,
    });
    expect(done.isError, done.text).toBe(false);
    expect(fake.apps.get('app-002')!.status.sync.revision).toBe('b'.repeat(40));
  });
  it('an unknown history id is an error listing the ids', async () => {
    const r = await t.call('argocd_rollback', { app: 'app-002', id: 9 });
    expect(r.errorCode).toBe('not_found');
    expect(r.text).toMatch(/history ids: 1, 2/);
  });
});
