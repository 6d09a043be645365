import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubeBinaries } from '@infra-mcp/testing/kube';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, cluster, dir } from './cluster.js';

const run = promisify(execFile);

// helm 4 talks to the API as client-go does: OpenAPI v3 for field validation, protobuf bodies for the
// Secrets that hold its releases, server-side apply for the chart's objects. The plugin must see what
// helm did, and the release Secret (the rendered chart, values included) must stay redacted.
describe('the real helm against the fake API server, seen through the k8s plugin', () => {
  let c: Cluster;
  const chart = join(dir, 'helm-demo');
  const helm = async (...args: string[]) =>
    (
      await run(kubeBinaries().helm, ['--kubeconfig', c.kubeconfig, '-n', 'shop', ...args], {
        env: { PATH: process.env.PATH, HOME: dir, HELM_CACHE_HOME: join(dir, 'helm-cache') },
      })
    ).stdout;

  beforeAll(async () => {
    c = await cluster();
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: demo\nversion: 0.1.0\n');
    writeFileSync(join(chart, 'values.yaml'), 'level: info\npassword: helm-chart-s3cret\n');
    writeFileSync(
      join(chart, 'templates', 'objects.yaml'),
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata: { name: "{{ .Release.Name }}-settings" }',
        'data: { level: "{{ .Values.level }}" }',
        '---',
        'apiVersion: v1',
        'kind: Secret',
        'metadata: { name: "{{ .Release.Name }}-db" }',
        'stringData: { password: "{{ .Values.password }}" }',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => c.close());

  it('install: the plugin lists the chart objects and the release Secret, with values redacted', async () => {
    await helm('install', 'r1', chart);
    const releases = JSON.parse(await helm('list', '-o', 'json'));
    expect(releases.map((r: any) => [r.name, r.revision, r.status])).toEqual([['r1', '1', 'deployed']]);

    const cm = await c.t.call('k8s_get', { kind: 'ConfigMap', name: 'r1-settings' });
    expect(cm.structured.object.data).toEqual({ level: 'info' });

    const owned = await c.t.call('k8s_list', {
      kind: 'Secret',
      labelSelector: 'owner=helm,name=r1',
      output: 'names',
    });
    expect(owned.structured.rows.map((r: string[]) => r[0])).toEqual(['sh.helm.release.v1.r1.v1']);

    const release = await c.t.call('k8s_get', { kind: 'Secret', name: 'sh.helm.release.v1.r1.v1' });
    expect(release.isError).toBe(false);
    expect(Object.keys(release.structured.object.data)).toEqual(['release']);
    const db = await c.t.call('k8s_get', { kind: 'Secret', name: 'r1-db' });
    const raw = c.fake.get('v1', 'Secret', 'sh.helm.release.v1.r1.v1', 'shop')!.data.release as string;
    for (const answer of [release, db]) {
      expect(answer.text).not.toContain(raw.slice(0, 40));
      expect(JSON.stringify(answer.structured)).not.toContain('helm-chart-s3cret');
    }
    expect(JSON.stringify(c.t.audit.records)).not.toContain(raw.slice(0, 40));
  });

  it('upgrade and rollback: helm history and the live object agree with the plugin', async () => {
    await helm('upgrade', 'r1', chart, '--set', 'level=debug');
    let cm = await c.t.call('k8s_get', { kind: 'ConfigMap', name: 'r1-settings' });
    expect(cm.structured.object.data).toEqual({ level: 'debug' });
    await helm('rollback', 'r1', '1');
    cm = await c.t.call('k8s_get', { kind: 'ConfigMap', name: 'r1-settings' });
    expect(cm.structured.object.data).toEqual({ level: 'info' });
    const history = JSON.parse(await helm('history', 'r1', '-o', 'json'));
    expect(history.map((h: any) => [h.revision, h.status])).toEqual([
      [1, 'superseded'],
      [2, 'superseded'],
      [3, 'deployed'],
    ]);
  });

  it('uninstall: the chart objects and every release Secret are gone for the plugin too', async () => {
    await helm('uninstall', 'r1');
    const cms = await c.t.call('k8s_list', { kind: 'ConfigMap', output: 'names' });
    expect(cms.structured.rows.map((r: string[]) => r[0])).toEqual(['settings']);
    const releases = await c.t.call('k8s_list', {
      kind: 'Secret',
      labelSelector: 'owner=helm',
      output: 'names',
    });
    expect(releases.structured.rows ?? []).toEqual([]);
    expect(JSON.parse(await helm('list', '-o', 'json'))).toEqual([]);
  });
});
