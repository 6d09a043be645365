import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlAuditSink } from '@infra-mcp/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, cluster } from './cluster.js';

// the Secret "db" of test/cluster.ts: password s3cr3t-value (base64 czNjcjN0LXZhbHVl), user "a"
const VALUES = ['czNjcjN0LXZhbHVl', 's3cr3t-value'];

describe('revealSecretsContexts: Secret values shown on get where the context opts in, never in audit', () => {
  let c: Cluster;
  let auditFile: string;
  beforeAll(async () => {
    auditFile = join(mkdtempSync(join(tmpdir(), 'k8s-audit-')), 'audit.jsonl');
    c = await cluster({
      contexts: ['dev', 'prod'],
      plugin: { revealSecretsContexts: ['dev'] },
      connect: {
        audit: [new JsonlAuditSink({ path: auditFile, key: Buffer.alloc(32, 7), checkpoint: false })],
      },
    });
  });
  afterAll(() => c.close());

  const leaks = (what: unknown) => {
    const s = typeof what === 'string' ? what : JSON.stringify(what);
    return VALUES.filter((v) => s.includes(v));
  };

  it('by default every path stays redacted: get, list with fields, describe, apply preview', async () => {
    const get = await c.t.call('k8s_get', { instance: 'prod', kind: 'Secret', name: 'db' });
    expect(get.structured.object.data).toEqual({ password: '[REDACTED]', user: '[REDACTED]' });
    expect(get.structured.decoded).toBeUndefined();
    expect(leaks(get.raw)).toEqual([]);
    for (const instance of ['prod', 'dev']) {
      const list = await c.t.call('k8s_list', {
        instance,
        kind: 'secrets',
        output: 'fields',
        fields: ['data'],
      });
      expect(leaks(list.raw)).toEqual([]);
      expect(leaks((await c.t.call('k8s_describe', { instance, kind: 'Secret', name: 'db' })).raw)).toEqual(
        [],
      );
      const manifest =
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n  password: czNjcjN0LXZhbHVl\n  user: Yg==\n';
      const apply = await c.t.call('k8s_apply', { instance, manifest });
      expect(apply.isError, apply.text).toBe(false);
      expect(leaks(apply.raw)).toEqual([]);
    }
    expect((await c.t.call('k8s_contexts', { instance: 'dev' })).structured.revealSecrets).toBe(true);
  });

  it('the opted-in context shows the values on get, decoded; the audit file never holds them', async () => {
    const r = await c.t.call('k8s_get', { instance: 'dev', kind: 'Secret', name: 'db' });
    expect(r.structured.object.data).toEqual({ password: 'czNjcjN0LXZhbHVl', user: 'YQ==' });
    expect(r.structured.decoded).toEqual({ password: 's3cr3t-value', user: 'a' });
    expect(r.text).toContain('decoded:\n  password: "s3cr3t-value"\n  user: "a"');
    const fields = await c.t.call('k8s_get', {
      instance: 'dev',
      kind: 'Secret',
      name: 'db',
      fields: ['data.password'],
    });
    expect(fields.structured.decoded).toEqual({ password: 's3cr3t-value' });
    // the other instance, after the reveal, still redacts
    const prod = await c.t.call('k8s_get', { instance: 'prod', kind: 'Secret', name: 'db' });
    expect(prod.structured.object.data.password).toBe('[REDACTED]');
    expect(leaks(prod.raw)).toEqual([]);
    // and so does every other path of the opted-in one
    expect(
      leaks((await c.t.call('k8s_describe', { instance: 'dev', kind: 'Secret', name: 'db' })).raw),
    ).toEqual([]);
    const audit = readFileSync(auditFile, 'utf8');
    expect(audit).toContain('"tool":"k8s_get"');
    expect(leaks(audit)).toEqual([]);
  });
});
