import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubeBinaries } from '@infra-mcp/testing/kube';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, cluster, dir } from './cluster.js';

const run = promisify(execFile);

describe('k8s read tools against the fake API server', () => {
  let c: Cluster;
  const kubectl = async (...args: string[]) =>
    (
      await run(kubeBinaries().kubectl, [
        '--kubeconfig',
        c.kubeconfig,
        '--cache-dir',
        `${dir}/cache`,
        ...args,
      ])
    ).stdout;
  beforeAll(async () => {
    c = await cluster();
  });
  afterAll(() => c.close());

  it('lists the read toolset by default and the write tools on request', async () => {
    const names = (await c.t.listTools()).map((t) => t.name);
    expect(names).toContain('k8s_list');
    expect(names).toContain('k8s_logs');
    expect(names).not.toContain('k8s_apply');
  });

  it('list: the same pods, statuses and readiness as kubectl get pods', async () => {
    const r = await c.t.call('k8s_list', { kind: 'pods' });
    expect(r.isError).toBe(false);
    // the table's rows are in the text: a title line, the header, then one line per pod
    const ours = r.text
      .split('\n')
      .slice(2)
      .map((l) => l.split(' ').slice(0, 3).join(' '));
    const theirs = (await kubectl('get', 'pods', '-n', 'shop', '--no-headers'))
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/).slice(0, 3).join(' '));
    expect(ours).toEqual(theirs);
    expect(r.structured.columns).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(r.structured.shown).toBe(3);
    expect(r.structured.rows).toBeUndefined();
  });

  it('list with a label selector matches kubectl -l; names output', async () => {
    const r = await c.t.call('k8s_list', { kind: 'po', labelSelector: 'app=web', output: 'names' });
    const names = r.structured.rows.map((row: string[]) => `pod/${row[0]}`).join('\n');
    expect(names).toBe((await kubectl('get', 'pods', '-n', 'shop', '-l', 'app=web', '-o', 'name')).trim());
  });

  it('list pages with the API continue token through the cursor', async () => {
    const first = await c.t.call('k8s_list', { kind: 'pods', limit: 2, output: 'names' });
    expect(first.structured.rows).toHaveLength(2);
    expect(first.structured.nextCursor).toBeTruthy();
    const second = await c.t.call('k8s_list', {
      kind: 'pods',
      limit: 2,
      output: 'names',
      cursor: first.structured.nextCursor,
    });
    expect(second.structured.rows.map((r: string[]) => r[0])).toEqual(['web-7d4-b']);
    expect(second.structured.nextCursor).toBeUndefined();
    expect(c.fake.requests.some((q) => q.url.includes('continue='))).toBe(true);
  });

  it('list fields picks dotted paths', async () => {
    const r = await c.t.call('k8s_list', {
      kind: 'deployments',
      output: 'fields',
      fields: ['spec.replicas'],
    });
    expect(r.structured.rows).toEqual([['web', 2]]);
  });

  it('get is slim: no managedFields, no last-applied annotation, other annotations kept', async () => {
    const r = await c.t.call('k8s_get', { kind: 'deployment', name: 'web' });
    expect(r.structured.object.metadata.managedFields).toBeUndefined();
    expect(r.structured.object.metadata.annotations).toEqual({ team: 'a' });
    expect(r.text).not.toContain('last-applied');
    const live = JSON.parse(await kubectl('get', 'deployment', 'web', '-n', 'shop', '-o', 'json'));
    expect(r.structured.object.metadata.uid).toBe(live.metadata.uid);
  });

  it('describe shows conditions, events and the pods a deployment owns', async () => {
    const r = await c.t.call('k8s_describe', { kind: 'Deployment', name: 'web' });
    expect(r.structured.pods.map((p: string[]) => p[0])).toEqual(['web-7d4-a', 'web-7d4-b']);
    expect(r.text).toContain('ScalingReplicaSet');
  });

  it('events: warnings first, then newest first', async () => {
    const r = await c.t.call('k8s_events', {});
    expect(r.structured.events.map((e: any) => e.reason)).toEqual([
      'FailedScheduling',
      'ScalingReplicaSet',
      'Scheduled',
    ]);
  });

  it('logs: the last 100 lines by default, grep, previous, a workload merged with prefixes', async () => {
    const r = await c.t.call('k8s_logs', { name: 'web-7d4-a' });
    expect(r.structured.lines).toHaveLength(100);
    expect(r.structured.lines.at(-1)).toBe('info request 299');
    const g = await c.t.call('k8s_logs', { name: 'web-7d4-a', tail: 300, grep: '^ERROR' });
    expect(g.structured.lines).toEqual([0, 50, 100, 150, 200, 250].map((i) => `ERROR request ${i}`));
    const p = await c.t.call('k8s_logs', { name: 'db-0', previous: true });
    expect(p.structured.lines).toEqual(['panic: cannot connect']);
    const w = await c.t.call('k8s_logs', { kind: 'Deployment', name: 'web', tail: 2 });
    expect(w.structured.lines).toEqual([
      '[web-7d4-a] info request 298',
      '[web-7d4-a] info request 299',
      '[web-7d4-b] info request 1',
      '[web-7d4-b] info request 2',
    ]);
  });

  it('logs keep the newest lines within a small budget', async () => {
    const r = await c.t.call('k8s_logs', { name: 'web-7d4-a', tail: 300, maxBytes: 1000 });
    expect(r.structured.lines.at(-1)).toBe('info request 299');
    expect(r.structured.omitted).toBeGreaterThan(200);
    expect(r.text).toMatch(/truncated/);
  });

  it('top pods from metrics.k8s.io; can_i; api_resources lists the CRD; contexts', async () => {
    expect((await c.t.call('k8s_top', {})).structured.rows).toEqual([['db-0', '12m', '64Mi']]);
    expect(
      (await c.t.call('k8s_can_i', { verb: 'list', resource: 'pods', namespace: 'shop' })).structured.allowed,
    ).toBe(true);
    const ar = await c.t.call('k8s_api_resources', { group: 'example.com' });
    expect(ar.structured.resources).toEqual([['Widget', 'widgets', 'wd', 'example.com/v1', true]]);
    const ctx = await c.t.call('k8s_contexts', {});
    expect(ctx.structured).toMatchObject({ context: 'fake', namespace: 'shop', server: c.fake.url });
  });
});

describe('k8s top without metrics-server', () => {
  it('says metrics-server is absent', async () => {
    const c = await cluster({ fake: { metrics: false } });
    const r = await c.t.call('k8s_top', {});
    expect(r.errorCode).toBe('not_supported');
    expect(r.text).toContain('metrics-server is not installed');
    await c.close();
  });
});

describe('k8s_logs at the deadline', () => {
  it('answers the lines read so far, marked partial, when a pod log is slow', async () => {
    const c = await cluster({
      fake: { latencyMs: (url) => (url.includes('/pods/web-7d4-b/log') ? 3000 : 0) },
      connect: { timeoutMs: 2000 },
    });
    const r = await c.t.call('k8s_logs', { kind: 'Deployment', name: 'web', tail: 2 });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.lines).toEqual(['[web-7d4-a] info request 298', '[web-7d4-a] info request 299']);
    expect(JSON.stringify(r.raw._meta['infra-mcp/partial'])).toMatch(
      /the deadline passed before the logs of 1 of 2 pods were read/,
    );
    await c.close();
  });
});
