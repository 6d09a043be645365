import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKube, kubeBinaries, startFakeKube } from '../src/kube.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fake-kube-'));

function seed(fake: FakeKube) {
  fake.add(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } },
    },
  );
  const deploy = fake.get('apps/v1', 'Deployment', 'web', 'shop')!;
  const owner = (o: { kind: string; metadata: { name: string; uid: string } }, apiVersion: string) => [
    { apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true },
  ];
  const [rs] = fake.add({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-1', namespace: 'shop', ownerReferences: owner(deploy as never, 'apps/v1') },
    spec: { replicas: 2 },
  });
  for (const [name, app, phase] of [
    ['web-1-a', 'web', 'Running'],
    ['web-1-b', 'web', 'Running'],
    ['db-0', 'db', 'Pending'],
  ] as const)
    fake.add({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: 'shop',
        labels: { app },
        ...(app === 'web' ? { ownerReferences: owner(rs as never, 'apps/v1') } : {}),
      },
      spec: { containers: [{ name: 'main', image: 'nginx' }] },
      status: { phase },
    });
}

// kubectl sends no bearer token over plain HTTP, so the HTTP server runs without one
describe.each([{ tls: true }, { tls: false }])(
  'fake API server with the real kubectl (tls: $tls)',
  ({ tls }) => {
    let fake: FakeKube;
    let kubeconfig: string;
    const kubectl = (...args: string[]) =>
      run(kubeBinaries().kubectl, [
        '--kubeconfig',
        kubeconfig,
        '--cache-dir',
        join(dir, 'cache'),
        ...args,
      ]).then((r) => r.stdout);
    beforeAll(async () => {
      fake = await startFakeKube({ tls, ...(tls ? { token: 'right-token' } : {}) });
      seed(fake);
      kubeconfig = join(dir, `kc-${tls}.yaml`);
      writeFileSync(kubeconfig, fake.kubeconfig());
    });
    afterAll(() => fake.close());

    it('lists pods as a table and by label selector', async () => {
      const all = await kubectl('get', 'pods', '-n', 'shop');
      expect(all.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE/);
      expect(all).toMatch(/db-0\s+0\/1\s+Pending/);
      expect(await kubectl('get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'name')).toBe(
        'pod/web-1-a\npod/web-1-b\n',
      );
      expect(
        await kubectl('get', 'pods', '-A', '--field-selector', 'status.phase=Pending', '-o', 'name'),
      ).toBe('pod/db-0\n');
    });

    it('gets an object as JSON with uid and resourceVersion', async () => {
      const o = JSON.parse(await kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'json'));
      expect(o.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number(o.metadata.resourceVersion)).toBeGreaterThan(0);
      expect(o.status.readyReplicas).toBe(2);
    });

    it('server-side apply with --dry-run=server stores nothing; without it stores the object', async () => {
      const file = join(dir, `cm-${tls}.yaml`);
      writeFileSync(
        file,
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: shop\ndata:\n  k: v\n',
      );
      // --validate=false: the fake serves no OpenAPI documents for client-side validation
      const dry = await kubectl('apply', '--validate=false', '--server-side', '--dry-run=server', '-f', file);
      expect(dry.trim()).toBe('configmap/cfg serverside-applied (server dry run)');
      expect(fake.get('v1', 'ConfigMap', 'cfg', 'shop')).toBeUndefined();
      await kubectl('apply', '--validate=false', '--server-side', '-f', file);
      expect(fake.get('v1', 'ConfigMap', 'cfg', 'shop')?.data).toEqual({ k: 'v' });
      expect(fake.get('v1', 'ConfigMap', 'cfg', 'shop')?.metadata.managedFields[0].manager).toBe('kubectl');
    });

    it('deleting a deployment removes what it owns (background propagation)', async () => {
      expect(await kubectl('delete', 'deployment', 'web', '-n', 'shop')).toBe(
        'deployment.apps "web" deleted\n',
      );
      expect(fake.get('apps/v1', 'ReplicaSet', 'web-1', 'shop')).toBeUndefined();
      expect(await kubectl('get', 'pods', '-n', 'shop', '-o', 'name')).toBe('pod/db-0\n');
    });

    // over plain HTTP the fake runs without a token (kubectl will not send one there), so this is HTTPS only
    it.runIf(tls)(
      'answers a wrong token with 401 (HTTPS only: no token is configured over plain HTTP)',
      async () => {
        const bad = join(dir, `bad-${tls}.yaml`);
        writeFileSync(bad, fake.kubeconfig({ token: 'expired' }));
        await expect(run(kubeBinaries().kubectl, ['--kubeconfig', bad, 'get', 'ns'])).rejects.toThrow(
          /must be logged in|Unauthorized/,
        );
      },
    );
  },
);

describe('fake API server over plain HTTP requests', () => {
  let fake: FakeKube;
  const req = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> => {
    const r = await fetch(fake.url + path, init);
    return {
      status: r.status,
      body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text(),
    };
  };
  beforeAll(async () => {
    fake = await startFakeKube({
      metrics: false,
      forbid: (r) => r.resource === 'secrets' && r.verb !== 'get',
    });
    seed(fake);
  });
  afterAll(() => fake.close());

  it('pages a list with limit and continue', async () => {
    const first = await req('/api/v1/namespaces/shop/pods?limit=2');
    expect(first.body.items.map((p: any) => p.metadata.name)).toEqual(['db-0', 'web-1-a']);
    expect(first.body.metadata.remainingItemCount).toBe(1);
    const next = await req(`/api/v1/namespaces/shop/pods?limit=2&continue=${first.body.metadata.continue}`);
    expect(next.body.items.map((p: any) => p.metadata.name)).toEqual(['web-1-b']);
    expect(next.body.metadata.continue).toBeUndefined();
  });

  it('answers Status errors: 403, 404, 409, 422', async () => {
    expect((await req('/api/v1/namespaces/shop/secrets')).body).toMatchObject({
      code: 403,
      reason: 'Forbidden',
    });
    expect((await req('/api/v1/namespaces/shop/pods/nope')).body).toMatchObject({
      code: 404,
      reason: 'NotFound',
    });
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'shop' } };
    const post = (o: unknown) =>
      req('/api/v1/namespaces/shop/configmaps', { method: 'POST', body: JSON.stringify(o) });
    expect((await post(cm)).status).toBe(201);
    expect((await post(cm)).body).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    const bad = await req('/apis/apps/v1/namespaces/shop/deployments', {
      method: 'POST',
      body: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd' },
        spec: { replicas: -1 },
      }),
    });
    expect(bad.body).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(bad.body.details.causes[0].field).toBe('spec.replicas');
  });

  it('serves pods/log with tailLines, and no metrics API when metrics-server is absent', async () => {
    fake.logs.set(
      'shop/db-0/main',
      [1, 2, 3].map((i) => ({ time: new Date().toISOString(), text: `line ${i}` })),
    );
    expect((await req('/api/v1/namespaces/shop/pods/db-0/log?tailLines=2')).body).toBe('line 2\nline 3\n');
    expect((await req('/apis/metrics.k8s.io/v1beta1/pods')).status).toBe(404);
  });

  it('decodes protobuf only for the kinds helm sends: others get 415 naming the kind, garbage 400', async () => {
    // magic, then runtime.Unknown { typeMeta: { apiVersion: "v1", kind: "Pod" } } in protobuf wire form
    const typeMeta = Buffer.from([0x0a, 2, ...Buffer.from('v1'), 0x12, 3, ...Buffer.from('Pod')]);
    const pod = Buffer.concat([
      Buffer.from('k8s\u0000', 'latin1'),
      Buffer.from([0x0a, typeMeta.length]),
      typeMeta,
    ]);
    const post = (body: Buffer | string, type = 'application/vnd.kubernetes.protobuf') =>
      req('/api/v1/namespaces/shop/pods', { method: 'POST', headers: { 'content-type': type }, body });
    const undecoded = await post(pod);
    expect(undecoded.body).toMatchObject({ code: 415, reason: 'UnsupportedMediaType' });
    expect(undecoded.body.message).toMatch(/does not decode protobuf Pod/);
    const garbage = await post(Buffer.from('k8s\u0000\u00ff\u00ff\u00ff', 'latin1'));
    expect(garbage.body).toMatchObject({ code: 400, reason: 'BadRequest' });
    expect(garbage.body.message).toMatch(/cannot decode the protobuf body/);
    const cbor = await post('x', 'application/cbor');
    expect(cbor.body).toMatchObject({ code: 415 });
  });

  it('answers a SelfSubjectAccessReview from the same rules as 403s', async () => {
    const review = (verb: string) =>
      req('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        method: 'POST',
        body: JSON.stringify({
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: { verb, resource: 'secrets', namespace: 'shop' } },
        }),
      });
    expect((await review('list')).body.status.allowed).toBe(false);
    expect((await review('get')).body.status.allowed).toBe(true);
  });

  it('serves the Table form and the scale subresource', async () => {
    const t = await req('/api/v1/namespaces/shop/pods', {
      headers: { accept: 'application/json;as=Table;g=meta.k8s.io;v=v1' },
    });
    expect(t.body.kind).toBe('Table');
    expect(t.body.columnDefinitions.map((c: any) => c.name)).toEqual([
      'Name',
      'Ready',
      'Status',
      'Restarts',
      'Age',
    ]);
    const s = await req('/apis/apps/v1/namespaces/shop/deployments/web/scale', {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 5 } }),
    });
    expect(s.body).toMatchObject({ kind: 'Scale', spec: { replicas: 5 } });
    expect(fake.get('apps/v1', 'Deployment', 'web', 'shop')?.spec.replicas).toBe(5);
  });
});
