import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubeBinaries } from '@infra-mcp/testing/kube';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, cluster } from './cluster.js';

const run = promisify(execFile);
let c: Cluster;
afterEach(() => c?.close());

describe('k8s_contexts', () => {
  it('lists every kubeconfig context with its policy, marks this instance, and shows no credential', async () => {
    c = await cluster({ contexts: ['dev', 'prod'], plugin: { readOnlyContexts: ['prod'] } });
    const r = await c.t.call('k8s_contexts', { instance: 'prod' });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured).toMatchObject({ context: 'prod', readOnlyContext: true });
    expect(r.structured.contexts).toEqual([
      { name: 'dev', server: c.fake.url, namespace: 'shop', current: true, readOnly: false },
      { name: 'prod', server: c.fake.url, namespace: 'shop', current: false, readOnly: true },
    ]);
    const { stdout } = await run(kubeBinaries().kubectl, [
      '--kubeconfig',
      c.kubeconfig,
      'config',
      'get-contexts',
      '-o',
      'name',
    ]);
    expect(r.structured.contexts.map((x: { name: string }) => x.name)).toEqual(stdout.trim().split('\n'));
    expect(r.text).toMatch(/^\*\s+prod\s/m);
    expect(JSON.stringify(r.structured) + r.text).not.toContain('kube-token-s3cret');
  });
});
