import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubeBinaries } from '@infra-mcp/testing/kube';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, cluster } from './cluster.js';

const run = promisify(execFile);
let c: Cluster;
afterEach(() => c?.close());

/** The rows of `kubectl api-resources` (columns cut where the header's columns start). */
async function kubectlApiResources(): Promise<string[]> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-')); // no discovery cache from another run
  const { stdout } = await run(kubeBinaries().kubectl, [
    '--kubeconfig',
    c.kubeconfig,
    '--cache-dir',
    cacheDir,
    'api-resources',
  ]);
  const [header, ...rows] = stdout.trimEnd().split('\n') as [string, ...string[]];
  const starts = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND'].map((h) => header.indexOf(h));
  return rows.map((row) => {
    const [plural, short, apiVersion, namespaced, kind] = starts.map((s, i) =>
      row.slice(s, starts[i + 1]).trim(),
    );
    return [kind, plural, short, apiVersion, namespaced].join(' ');
  });
}

/** What k8s_api_resources lists, every page, and the discovery requests it made. */
async function pluginApiResources(): Promise<{ rows: string[]; requests: string[] }> {
  const before = c.fake.requests.length;
  const rows: string[] = [];
  let cursor: string | undefined;
  do {
    const r = await c.t.call('k8s_api_resources', cursor ? { cursor } : {});
    expect(r.isError, r.text).toBe(false);
    rows.push(...r.structured.resources.map((x: unknown[]) => x.join(' ')));
    cursor = r.structured.nextCursor;
  } while (cursor);
  return { rows, requests: c.fake.requests.slice(before).map((r) => r.url) };
}

describe('aggregated discovery', () => {
  it('kubectl api-resources and k8s_api_resources list the same kinds, from one aggregated document each', async () => {
    c = await cluster();
    const theirs = await kubectlApiResources();
    // kubectl asked for the aggregated form (v2, then v2beta1) and needed no request per group-version
    expect(c.fake.requests.map((r) => [r.url.split('?')[0], r.accept])).toEqual(
      ['/api', '/apis'].map((path) => [
        path,
        'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json',
      ]),
    );

    const ours = await pluginApiResources();
    expect(ours.rows.sort()).toEqual(theirs.sort());
    expect(theirs).toContain('Widget widgets wd example.com/v1 true');
    expect(theirs).toContain('Deployment deployments deploy apps/v1 true');
    expect(ours.requests.sort()).toEqual(['/api', '/apis']);
  });

  it('falls back to legacy discovery where the server does not aggregate: the same kinds, one request per group-version', async () => {
    c = await cluster({ fake: { aggregatedDiscovery: false } });
    const theirs = await kubectlApiResources();
    const ours = await pluginApiResources();
    expect(ours.rows.sort()).toEqual(theirs.sort());
    // /api and /apis (answered in the legacy form), then /api/v1 and every group's preferred version
    expect(ours.requests.length).toBe(3 + new Set(theirs.map((r) => r.split(' ')[3])).size - 1);
    // kind resolution works the same on either form
    const get = await c.t.call('k8s_get', { kind: 'deploy', name: 'web' });
    expect(get.isError, get.text).toBe(false);
  });
});
