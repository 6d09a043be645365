import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubeBinaries } from '@infra-mcp/testing/kube';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, cluster, dir } from './cluster.js';

const run = promisify(execFile);
let c: Cluster;
afterEach(() => c?.close());

const cm = (name: string, data: Record<string, string>, extra = '') =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: shop\n${extra}data:\n${Object.entries(
    data,
  )
    .map(([k, v]) => `  ${k}: "${v}"`)
    .join('\n')}\n`;

async function approve(name: string, args: Record<string, unknown>) {
  const dry = await c.t.call(name, args);
  expect(dry.isError, dry.text).toBe(false);
  return { dry, done: await c.t.call(name, { ...args, approval: dry.structured.approval }) };
}

describe('k8s_apply', () => {
  it('previews a per-object diff from a server-side dry run, changes nothing, then applies what was reviewed', async () => {
    c = await cluster();
    const manifest = [cm('settings', { level: 'info' }), cm('fresh', { a: '1' })].join('---\n');
    const dry = await c.t.call('k8s_apply', { manifest });
    expect(dry.structured.summary).toBe('apply 2 objects: 1 created, 1 changed, 0 unchanged');
    expect(dry.text).toContain('~ ConfigMap shop/settings (update)\n    data.level: debug -> info');
    expect(dry.text).toContain('+ ConfigMap shop/fresh (create)');
    const patches = c.fake.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(0);
    expect(
      patches.every((r) => r.url.includes('dryRun=All') && r.contentType === 'application/apply-patch+yaml'),
    ).toBe(true);
    expect(c.fake.get('v1', 'ConfigMap', 'fresh', 'shop')).toBeUndefined();
    const done = await c.t.call('k8s_apply', { manifest, approval: dry.structured.approval });
    expect(done.structured.result.applied).toEqual(['ConfigMap shop/settings', 'ConfigMap shop/fresh']);
    // the real kubectl sees the result, and its own server-side dry run now finds nothing to change
    const kc = (...a: string[]) =>
      run(kubeBinaries().kubectl, ['--kubeconfig', c.kubeconfig, '--cache-dir', `${dir}/cache`, ...a]).then(
        (r) => r.stdout,
      );
    expect(await kc('get', 'cm', 'fresh', '-n', 'shop', '-o', 'jsonpath={.data.a}')).toBe('1');
    const file = join(dir, 'fresh.yaml');
    writeFileSync(file, cm('fresh', { a: '1' }));
    expect(
      (await kc('apply', '--validate=false', '--server-side', '--dry-run=server', '-f', file)).trim(),
    ).toBe('configmap/fresh serverside-applied (server dry run)');
    const again = await c.t.call('k8s_apply', { manifest: cm('fresh', { a: '1' }) });
    expect(again.structured.summary).toBe('apply 1 object: 0 created, 0 changed, 1 unchanged');
  });

  it('applies nothing when one document is invalid (422), naming the document and the field', async () => {
    c = await cluster();
    const bad =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: broken\n  namespace: shop\nspec:\n  replicas: -1\n';
    const r = await c.t.call('k8s_apply', { manifest: [cm('one', { a: '1' }), bad].join('---\n') });
    expect(r.errorCode).toBe('invalid');
    expect(r.text).toMatch(/document 2 of 2 \(Deployment shop\/broken\).*spec\.replicas/);
    expect(r.text).toContain('nothing was applied');
    expect(c.fake.get('v1', 'ConfigMap', 'one', 'shop')).toBeUndefined();
  });

  it('reports malformed YAML with its line and column', async () => {
    c = await cluster();
    const r = await c.t.call('k8s_apply', {
      manifest: `${cm('ok', { a: '1' })}---\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n`,
    });
    expect(r.errorCode).toBe('invalid_manifest');
    expect(r.text).toMatch(/document 2: .*\(line \d+, column \d+\)/);
  });

  it('refuses a stale approval: the object changed between preview and approval', async () => {
    c = await cluster();
    const args = { manifest: cm('settings', { level: 'info' }) };
    const dry = await c.t.call('k8s_apply', args);
    c.fake.add({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'shop' },
      data: { level: 'trace' },
    });
    const r = await c.t.call('k8s_apply', { ...args, approval: dry.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect(c.fake.get('v1', 'ConfigMap', 'settings', 'shop')?.data).toEqual({ level: 'trace' });
  });

  it('reports a failure on object 2 of 3 with what was and was not applied', async () => {
    let refuse = false;
    c = await cluster({ fake: { forbid: (q) => refuse && q.verb === 'patch' && q.name === 'b' } });
    const args = { manifest: [cm('a', { x: '1' }), cm('b', { x: '1' }), cm('c', { x: '1' })].join('---\n') };
    const dry = await c.t.call('k8s_apply', args);
    refuse = true;
    const r = await c.t.call('k8s_apply', { ...args, approval: dry.structured.approval });
    expect(r.errorCode).toBe('apply_failed');
    expect(r.text).toMatch(/object 2 of 3 \(ConfigMap shop\/b\) failed/);
    expect(r.raw._meta['infra-mcp/error'].details).toEqual({
      applied: ['ConfigMap shop/a'],
      failed: 'ConfigMap shop/b',
      notAttempted: ['ConfigMap shop/c'],
    });
  });

  it('answers a 409 conflict when the manifest pins an old resourceVersion', async () => {
    c = await cluster();
    const r = await c.t.call('k8s_apply', {
      manifest: cm('settings', { level: 'x' }, '  resourceVersion: "1"\n').replace('data:', 'data:'),
    });
    expect(r.errorCode).toBe('conflict');
    expect(r.text).toMatch(/the object has been modified/);
  });

  it('is denied in a read-only context', async () => {
    c = await cluster({ contexts: ['dev', 'prod'], plugin: { readOnlyContexts: ['prod'] } });
    const r = await c.t.call('k8s_apply', { manifest: cm('x', { a: '1' }), instance: 'prod' });
    expect(r.errorCode).toBe('denied_by_policy');
    const ok = await c.t.call('k8s_apply', { manifest: cm('x', { a: '1' }), instance: 'dev' });
    expect(ok.structured.dryRun).toBe(true);
  });
});

describe('k8s_delete, k8s_scale, rollout', () => {
  it('delete previews what the object owns, then deletes it and them', async () => {
    c = await cluster();
    const { dry, done } = await approve('k8s_delete', { kind: 'Deployment', name: 'web' });
    expect(dry.structured.summary).toBe('delete Deployment shop/web and 3 owned objects');
    expect(dry.text).toContain('owned: Pod/web-7d4-a');
    expect(c.fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.url)).toEqual([
      // the dry runs (core plans twice in tests to check determinism), then the delete
      '/apis/apps/v1/namespaces/shop/deployments/web?dryRun=All',
      '/apis/apps/v1/namespaces/shop/deployments/web?dryRun=All',
      '/apis/apps/v1/namespaces/shop/deployments/web',
    ]);
    expect(done.isError).toBe(false);
    expect(c.fake.get('apps/v1', 'Deployment', 'web', 'shop')).toBeUndefined();
    expect(c.fake.get('v1', 'Pod', 'web-7d4-a', 'shop')).toBeUndefined();
    expect(c.fake.get('v1', 'Pod', 'db-0', 'shop')).toBeDefined();
  });

  it('delete refuses a stale approval (the object changed) and is denied in a read-only context', async () => {
    c = await cluster({ contexts: ['dev', 'prod'], plugin: { readOnlyContexts: ['prod'] } });
    const args = { kind: 'ConfigMap', name: 'settings', instance: 'dev' };
    const dry = await c.t.call('k8s_delete', args);
    c.fake.add({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'shop' },
      data: { level: 'x' },
    });
    const r = await c.t.call('k8s_delete', { ...args, approval: dry.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect(c.fake.get('v1', 'ConfigMap', 'settings', 'shop')).toBeDefined();
    const ro = await c.t.call('k8s_delete', { ...args, instance: 'prod' });
    expect(ro.errorCode).toBe('denied_by_policy');
  });

  it('scale through the scale subresource; rollout restart then status done', async () => {
    c = await cluster();
    const { dry, done } = await approve('k8s_scale', { name: 'web', replicas: 4 });
    expect(dry.structured.summary).toBe('scale Deployment shop/web from 2 to 4 replicas');
    expect(done.structured.result).toEqual({ name: 'Deployment shop/web', from: 2, to: 4 });
    const restart = await approve('k8s_rollout_restart', { name: 'web' });
    expect(restart.done.isError).toBe(false);
    const tpl = c.fake.get('apps/v1', 'Deployment', 'web', 'shop')?.spec.template.metadata.annotations;
    expect(tpl['kubectl.kubernetes.io/restartedAt']).toEqual(expect.any(String));
    const status = await c.t.call('k8s_rollout_status', { name: 'web', wait: true });
    expect(status.structured).toEqual({ done: true, message: 'deployment "web" successfully rolled out' });
  });
});

describe('rollout history and undo', () => {
  it('lists revisions and rolls back to the previous one after a diff of the pod template', async () => {
    c = await cluster();
    const deploy = c.fake.get('apps/v1', 'Deployment', 'web', 'shop')!;
    const owner = [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: deploy.metadata.uid, controller: true },
    ];
    const template = (image: string) => ({
      metadata: { labels: { app: 'web', 'pod-template-hash': image.slice(-2) } },
      spec: { containers: [{ name: 'main', image }] },
    });
    c.fake.add(
      {
        ...deploy,
        metadata: { ...deploy.metadata, annotations: { 'deployment.kubernetes.io/revision': '2' } },
        spec: {
          ...deploy.spec,
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'main', image: 'nginx:1.27' }] },
          },
        },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: 'web-old',
          namespace: 'shop',
          ownerReferences: owner,
          annotations: { 'deployment.kubernetes.io/revision': '1' },
        },
        spec: { replicas: 0, template: template('nginx:1.26') },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: 'web-7d4',
          namespace: 'shop',
          ownerReferences: owner,
          annotations: { 'deployment.kubernetes.io/revision': '2' },
        },
        spec: { replicas: 2, template: template('nginx:1.27') },
      },
    );
    const h = await c.t.call('k8s_rollout_history', { name: 'web' });
    expect(h.structured.revisions.map((r: any) => [r.revision, r.images[0]])).toEqual([
      [1, 'nginx:1.26'],
      [2, 'nginx:1.27'],
    ]);
    const { dry, done } = await approve('k8s_rollout_undo', { name: 'web' });
    expect(dry.structured.summary).toBe('roll Deployment shop/web back to revision 1 (nginx:1.26)');
    expect(dry.text).toContain(
      'spec.template.spec.containers: [{"name":"main","image":"nginx:1.27"}] -> [{"name":"main","image":"nginx:1.26"}]',
    );
    expect(done.isError, done.text).toBe(false);
    const after = c.fake.get('apps/v1', 'Deployment', 'web', 'shop')!;
    expect(after.spec.template.spec.containers[0].image).toBe('nginx:1.26');
    expect(after.spec.template.metadata.labels).toEqual({ app: 'web' });
  });
});
