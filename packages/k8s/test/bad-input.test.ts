import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@infra-mcp/testing';
import { startFakeKube } from '@infra-mcp/testing/kube';
import { afterEach, describe, expect, it } from 'vitest';
import { k8s } from '../src/index.js';
import { type Cluster, cluster, dir } from './cluster.js';

let c: Cluster | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

describe('bad input: clear errors with a hint, nothing changed', () => {
  it('unknown kind, and an ambiguous kind (two groups) that names both', async () => {
    c = await cluster();
    const unknown = await c.t.call('k8s_list', { kind: 'Gadget' });
    expect(unknown.errorCode).toBe('unknown_kind');
    expect(unknown.text).toContain('k8s_api_resources');
    const amb = await c.t.call('k8s_list', { kind: 'Widget' });
    expect(amb.errorCode, amb.text).toBe('ambiguous_kind');
    expect(amb.text).toMatch(/example\.com\/v1, other\.example\.org\/v1/);
    const picked = await c.t.call('k8s_list', {
      kind: 'Widget',
      apiVersion: 'example.com/v1',
      output: 'names',
    });
    expect(picked.structured.rows).toEqual([['w1']]);
  });

  it('a namespace outside the allow-list is denied; allNamespaces too', async () => {
    c = await cluster({ plugin: { allow: { namespace: ['shop', 'team-*'] } } });
    const r = await c.t.call('k8s_get', { kind: 'Pod', name: 'x', namespace: 'kube-system' });
    expect(r.errorCode).toBe('denied_by_policy');
    expect(r.text).toContain('namespace "kube-system" is not allowed');
    expect((await c.t.call('k8s_list', { kind: 'pods', allNamespaces: true })).errorCode).toBe(
      'denied_by_policy',
    );
    const apply = await c.t.call('k8s_apply', {
      manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: kube-system\n',
    });
    expect(apply.errorCode).toBe('denied_by_policy');
    expect(c.fake.requests.some((q) => q.url.includes('kube-system'))).toBe(false);
  });

  it('a namespace that does not exist', async () => {
    c = await cluster();
    const r = await c.t.call('k8s_apply', {
      manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n',
      namespace: 'nowhere',
    });
    expect(r.errorCode).toBe('not_found');
    expect(r.text).toMatch(/namespaces "nowhere" not found/);
  });

  it('a 403 says who may not do what and points to can_i', async () => {
    c = await cluster({ fake: { forbid: (q) => q.resource === 'secrets' } });
    const r = await c.t.call('k8s_list', { kind: 'secrets' });
    expect(r.errorCode).toBe('forbidden');
    expect(r.text).toMatch(/cannot list resource "secrets"/);
    expect(r.text).toContain('k8s_can_i');
    expect(
      (await c.t.call('k8s_can_i', { verb: 'list', resource: 'secrets', namespace: 'shop' })).structured
        .allowed,
    ).toBe(false);
  });

  it('an expired kubeconfig token: 401 with a hint to log in again, the token not shown', async () => {
    const fake = await startFakeKube({ tls: true, token: 'the-valid-token' });
    const kubeconfig = join(dir, 'expired.yaml');
    writeFileSync(kubeconfig, fake.kubeconfig({ token: 'expired-token-value' }));
    const t = await connect([k8s({ kubeconfig })]);
    const r = await t.call('k8s_list', { kind: 'pods' });
    expect(r.errorCode).toBe('unauthorized');
    expect(r.text).toMatch(/refused the credentials.*\nhint: .*expired/);
    expect(JSON.stringify([r.raw, t.audit.records])).not.toContain('expired-token-value');
    await t.close();
    await fake.close();
  });

  it('an unreachable cluster', async () => {
    const fake = await startFakeKube({ tls: true });
    const kubeconfig = join(dir, 'gone.yaml');
    writeFileSync(kubeconfig, fake.kubeconfig());
    await fake.close();
    const t = await connect([k8s({ kubeconfig })]);
    const r = await t.call('k8s_get', { kind: 'Pod', name: 'x' });
    expect(r.errorCode, r.text).toBe('backend_unreachable');
    expect(r.text).toMatch(
      /cannot reach the API server of context "fake" \(https:\/\/127\.0\.0\.1:\d+\): ECONNREFUSED/,
    );
    await t.close();
  });
});
