import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, cluster } from './cluster.js';

// Values seeded in test/cluster.ts that must never reach an answer or an audit record.
const SECRET_VALUES = [
  'czNjcjN0LXZhbHVl',
  's3cr3t-value',
  'YQ==',
  'hunter2-literal',
  'tok-literal-123',
  'kube-token-s3cret',
];

function expectNoSecret(what: unknown) {
  const s = typeof what === 'string' ? what : JSON.stringify(what);
  for (const v of SECRET_VALUES) expect(s, `leaked ${v}`).not.toContain(v);
}

describe('secrets never leak', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await cluster();
  });
  afterAll(() => c.close());

  it('get of a Secret: keys and metadata visible, values redacted (text and structured)', async () => {
    const r = await c.t.call('k8s_get', { kind: 'Secret', name: 'db' });
    expect(Object.keys(r.structured.object.data)).toEqual(['password', 'user']);
    expect(r.structured.object.data.password).toBe('[REDACTED]');
    expect(r.text).toContain('password:');
    expectNoSecret(r.raw);
  });

  it('get with fields of a Secret', async () => {
    const r = await c.t.call('k8s_get', { kind: 'Secret', name: 'db', fields: ['data.password', 'data'] });
    expectNoSecret(r.raw);
  });

  it('list with fields (data) of Secrets', async () => {
    const r = await c.t.call('k8s_list', {
      kind: 'secrets',
      output: 'fields',
      fields: ['data', 'data.user'],
    });
    expect(r.structured.rows[0][0]).toBe('db');
    expectNoSecret(r.raw);
  });

  it('describe of a Secret', async () => {
    expectNoSecret((await c.t.call('k8s_describe', { kind: 'Secret', name: 'db' })).raw);
  });

  it('literal env values with credential-like names: get of a pod and a deployment, list fields', async () => {
    const pod = await c.t.call('k8s_get', { kind: 'Pod', name: 'db-0' });
    expect(pod.structured.object.spec.containers[0].env[0]).toEqual({
      name: 'API_TOKEN',
      value: '[REDACTED]',
    });
    expectNoSecret(pod.raw);
    const d = await c.t.call('k8s_get', { kind: 'Deployment', name: 'web' });
    expect(d.structured.object.spec.template.spec.containers[0].env[1]).toEqual({
      name: 'MODE',
      value: 'prod',
    });
    expectNoSecret(d.raw);
    expectNoSecret(
      (await c.t.call('k8s_list', { kind: 'pods', output: 'fields', fields: ['spec.containers'] })).raw,
    );
    expectNoSecret((await c.t.call('k8s_describe', { kind: 'Deployment', name: 'web' })).raw);
  });

  it('apply preview of a Secret and of an env value: "changed" without the values, also in audit', async () => {
    const manifest =
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  password: czNjcjN0LXZhbHVl\n  user: Yg==\n';
    const r = await c.t.call('k8s_apply', { manifest });
    expect(r.structured.summary).toBe('apply 1 object: 0 created, 1 changed, 0 unchanged');
    expect(r.text).toMatch(/data\.user: \(hidden sha256:[0-9a-f]{8}\) -> \(hidden sha256:[0-9a-f]{8}\)/);
    expectNoSecret(r.raw);
    expect(JSON.stringify(r.raw)).not.toContain('Yg==');
    const pod =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: db-0\n  namespace: shop\nspec:\n  containers:\n  - name: main\n    image: nginx\n    env:\n    - name: API_TOKEN\n      value: tok-literal-123-new\n';
    const p = await c.t.call('k8s_apply', { manifest: pod });
    expect(p.isError, p.text).toBe(false);
    expect(JSON.stringify(p.raw)).not.toContain('tok-literal-123');
    expectNoSecret(c.t.audit.records);
    expect(JSON.stringify(c.t.audit.records)).not.toContain('tok-literal-123-new');
  });

  it('errors: a refused apply of a Secret does not echo its values; the kubeconfig token never appears', async () => {
    const manifest =
      'apiVersion: v1\nkind: Secret\nmetadata:\n  name: other\n  namespace: nowhere\nstringData:\n  password: s3cr3t-value\n';
    const r = await c.t.call('k8s_apply', { manifest });
    expect(r.isError).toBe(true);
    expectNoSecret(r.raw);
    expectNoSecret(c.t.audit.records);
  });
});
