/**
 * The helm release tools with the REAL Helm 4 binary against the loopback fake Kubernetes API server,
 * through MCP; what the tools say is checked against what `helm` itself reports, and the fake's store
 * against what the tools claim to have changed (or not).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCodes } from '@infra-mcp/core';
import { connect, type TestClient } from '@infra-mcp/testing';
import { type FakeKube, kubeBinaries, startFakeKube } from '@infra-mcp/testing/kube';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helm } from '../src/index.js';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'infra-ops-helm-release-'));
const root = join(dir, 'charts');
const kubeconfig = join(dir, 'kubeconfig');
const SECRETS = [
  'prod-db-password-42',
  'chart-default-db-password',
  'chart-default-api-token',
  'set-pass-7731',
];

let fake: FakeKube;
let t: TestClient;

/** helm itself, for comparison and for "someone else" changing the release. */
async function helmCli(...args: string[]): Promise<string> {
  const r = await exec(kubeBinaries().helm, ['--kubeconfig', kubeconfig, '-n', 'shop', ...args], {
    env: { PATH: process.env.PATH, HOME: dir, HELM_CACHE_HOME: join(dir, 'helm-cache') },
  });
  return r.stdout;
}
const store = () => JSON.stringify(fake.store.all());
const deployment = () => fake.get('apps/v1', 'Deployment', 'shop-web', 'shop');
const plugin = (o: Record<string, unknown> = {}) =>
  helm({
    binary: kubeBinaries().helm,
    chartsRoot: root,
    kubeconfig,
    namespace: 'shop',
    allow: { namespace: ['shop', 'team-*'] },
    ...o,
  } as never);

/** A dry run, then the same call with its approval. */
async function approve(tool: string, args: Record<string, unknown>) {
  const preview = await t.call(tool, args);
  expect(preview.isError, preview.text).toBe(false);
  return t.call(tool, { ...args, approval: preview.structured.approval });
}

beforeAll(async () => {
  fake = await startFakeKube({ tls: true, token: 'kube-token-s3cret' });
  fake.add(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
  );
  writeFileSync(kubeconfig, fake.kubeconfig({ namespace: 'shop' }));
  cpSync(join(import.meta.dirname, 'fixtures', 'charts'), root, { recursive: true });
  writeFileSync(join(root, 'prod.yaml'), 'replicaCount: 3\ndatabase:\n  password: prod-db-password-42\n');
  writeFileSync(join(root, 'bigger.yaml'), 'replicaCount: 5\n');
  // a chart whose template fails with a value it was given: helm's stderr carries it
  mkdirSync(join(root, 'failing', 'templates'), { recursive: true });
  writeFileSync(join(root, 'failing', 'Chart.yaml'), 'apiVersion: v2\nname: failing\nversion: 0.1.0\n');
  writeFileSync(join(root, 'failing', 'values.yaml'), 'database:\n  password: ""\n');
  writeFileSync(
    join(root, 'failing', 'templates', 'cm.yaml'),
    '{{ fail (printf "cannot reach the database with %s" .Values.database.password) }}\n',
  );
  symlinkSync('/etc', join(root, 'escape'));
  t = await connect([plugin()]);
}, 120_000);
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

describe('install, upgrade, rollback, uninstall: preview first, then exactly what was reviewed', () => {
  it('install preview: every object to create, nothing changed in the cluster, no secret shown', async () => {
    const before = store();
    const r = await t.call('helm_upgrade', { release: 'shop', chart: 'web', values: ['prod.yaml'] });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.dryRun).toBe(true);
    expect(r.structured.preview).toMatchObject({ action: 'install', fromRevision: null, chart: 'web-1.2.0' });
    expect(
      r.structured.preview.objects.map((o: { object: string; action: string }) => [o.object, o.action]),
    ).toEqual([
      ['Secret shop/shop-db', 'create'],
      ['Service shop/shop-web', 'create'],
      ['Deployment shop/shop-web', 'create'],
    ]);
    expect(r.text).toContain('helm install shop in shop (new release, chart web-1.2.0): 3 to create');
    expect(store()).toBe(before);
    expect(JSON.parse(await helmCli('list', '-o', 'json'))).toEqual([]);
    for (const s of SECRETS) expect(JSON.stringify(r.raw)).not.toContain(s);
  });

  it('the approved install applies; list, status and history agree with helm', async () => {
    const r = await approve('helm_upgrade', { release: 'shop', chart: 'web', values: ['prod.yaml'] });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.result).toMatchObject({
      release: 'shop',
      namespace: 'shop',
      revision: 1,
      status: 'deployed',
    });
    expect(deployment()?.spec.replicas).toBe(3);

    const [cli] = JSON.parse(await helmCli('list', '-o', 'json'));
    const list = await t.call('helm_list', {});
    expect(list.structured.releases).toEqual([
      {
        name: cli.name,
        namespace: cli.namespace,
        revision: Number(cli.revision),
        status: cli.status,
        chart: cli.chart,
        appVersion: cli.app_version,
        updated: expect.stringMatching(
          new RegExp(`^${cli.updated.slice(0, 10)}T${cli.updated.slice(11, 19)}Z$`),
        ),
      },
    ]);
    expect(list.text).toMatch(/NAME\s+NAMESPACE\s+REV\s+STATUS\s+CHART\s+APP\s+UPDATED/);
    expect((await t.call('helm_list', { filter: '^sh' })).structured.total).toBe(1);
    expect((await t.call('helm_list', { filter: '^nomatch$' })).structured.total).toBe(0);

    const status = await t.call('helm_status', { release: 'shop' });
    const cliStatus = JSON.parse(await helmCli('status', 'shop', '-o', 'json'));
    expect(status.structured).toMatchObject({
      revision: cliStatus.version,
      status: cliStatus.info.status,
      chart: cli.chart,
      appVersion: cli.app_version,
      description: cliStatus.info.description,
    });
    expect([...status.structured.objects].sort()).toEqual([
      'Deployment/shop-web',
      'Secret/shop-db',
      'Service/shop-web',
    ]);
    for (const s of SECRETS) expect(JSON.stringify(status.raw)).not.toContain(s);
  });

  it('upgrade preview: a per-object diff, Secret changes shown without values, cluster unchanged', async () => {
    const before = store();
    const args = {
      release: 'shop',
      chart: 'web',
      values: ['prod.yaml', 'bigger.yaml'],
      set: { 'image.tag': '2.1.0', 'database.password': 'set-pass-7731' },
    };
    const r = await t.call('helm_upgrade', args);
    expect(r.isError, r.text).toBe(false);
    const objects = r.structured.preview.objects;
    expect(r.structured.preview).toMatchObject({ action: 'upgrade', fromRevision: 1 });
    const deploy = objects.find((o: { object: string }) => o.object === 'Deployment shop/shop-web');
    expect(deploy.action).toBe('update');
    expect(deploy.changes).toEqual(
      expect.arrayContaining([
        { path: 'spec.replicas', from: 3, to: 5 },
        {
          path: 'spec.template.spec.containers[web].image',
          from: 'registry.example.com/web:2.0.1',
          to: 'registry.example.com/web:2.1.0',
        },
      ]),
    );
    const secret = objects.find((o: { object: string }) => o.object === 'Secret shop/shop-db');
    expect(secret).toMatchObject({ action: 'update', changes: [{ path: 'stringData.password' }] });
    expect(secret.changes[0].from).toMatch(/^\(hidden [0-9a-f]{8}\)$/);
    expect(secret.changes[0].to).not.toBe(secret.changes[0].from);
    expect(objects.find((o: { object: string }) => o.object === 'Service shop/shop-web').action).toBe(
      'unchanged',
    );
    expect(r.text).toMatch(/~ Deployment shop\/shop-web \(update\)\n\s+spec.replicas: 3 -> 5/);
    expect(r.text).toContain('revision 1 -> 2');
    for (const s of SECRETS) expect(JSON.stringify(r.raw)).not.toContain(s);
    expect(store()).toBe(before);

    const done = await t.call('helm_upgrade', { ...args, approval: r.structured.approval });
    expect(done.isError, done.text).toBe(false);
    expect(done.structured.result.revision).toBe(2);
    expect(deployment()?.spec.replicas).toBe(5);
    expect(deployment()?.spec.template.spec.containers[0].image).toBe('registry.example.com/web:2.1.0');
    for (const s of SECRETS) expect(JSON.stringify(done.raw)).not.toContain(s);
  });

  it('the approved upgrade installs the reviewed chart even if the files change after the preview', async () => {
    const args = { release: 'shop', chart: 'web', values: ['prod.yaml', 'bigger.yaml'] };
    const preview = await t.call('helm_upgrade', args);
    writeFileSync(join(root, 'bigger.yaml'), 'replicaCount: 9\n');
    const r = await t.call('helm_upgrade', { ...args, approval: preview.structured.approval });
    writeFileSync(join(root, 'bigger.yaml'), 'replicaCount: 5\n');
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.result.revision).toBe(3);
    expect(deployment()?.spec.replicas).toBe(5);
  });

  it('a stale approval (someone upgraded in between) is refused and nothing runs', async () => {
    const args = { release: 'shop', chart: 'web', set: { 'image.tag': '3.0.0' } };
    const preview = await t.call('helm_upgrade', args);
    expect(preview.isError, preview.text).toBe(false);
    await helmCli('upgrade', 'shop', join(root, 'web'), '--set', 'replicaCount=4');
    const before = store();
    const r = await t.call('helm_upgrade', { ...args, approval: preview.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect(r.text).toMatch(/revision 3 -> 4/);
    expect(store()).toBe(before);
    const history = JSON.parse(await helmCli('history', 'shop', '-o', 'json'));
    expect(history.at(-1).revision).toBe(4);
    expect(deployment()?.spec.template.spec.containers[0].image).not.toContain('3.0.0');
  });

  it('helm_history agrees with helm history, newest first', async () => {
    const cli = JSON.parse(await helmCli('history', 'shop', '-o', 'json'));
    const r = await t.call('helm_history', { release: 'shop' });
    expect(
      r.structured.revisions.map((h: { revision: number; status: string; description: string }) => [
        h.revision,
        h.status,
        h.description,
      ]),
    ).toEqual(
      cli
        .reverse()
        .map((h: { revision: number; status: string; description: string }) => [
          h.revision,
          h.status,
          h.description,
        ]),
    );
  });

  it('rollback: preview the diff back to revision 1, cluster unchanged; approved, a new revision', async () => {
    const before = store();
    const preview = await t.call('helm_rollback', { release: 'shop', revision: 1 });
    expect(preview.isError, preview.text).toBe(false);
    expect(preview.structured.preview).toMatchObject({ from: 4, to: 1 });
    const deploy = preview.structured.preview.objects.find(
      (o: { object: string }) => o.object === 'Deployment shop/shop-web',
    );
    expect(deploy.changes).toContainEqual({ path: 'spec.replicas', from: 4, to: 3 });
    expect(preview.text).toContain('revision 4 -> 1');
    expect(store()).toBe(before);

    const r = await t.call('helm_rollback', {
      release: 'shop',
      revision: 1,
      approval: preview.structured.approval,
    });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.result).toMatchObject({ from: 4, to: 1, revision: 5 });
    expect(deployment()?.spec.replicas).toBe(3);
    const cli = JSON.parse(await helmCli('history', 'shop', '-o', 'json'));
    expect(cli.at(-1)).toMatchObject({ revision: 5, status: 'deployed' });
  });

  it('a revision the history does not hold is a clear error', async () => {
    const r = await t.call('helm_rollback', { release: 'shop', revision: 42 });
    expect(r.errorCode).toBe('bad_argument');
    expect(r.text).toMatch(/no revision 42 \(kept: 1, 2, 3, 4, 5\)/);
  });

  it('uninstall: preview lists what goes, cluster unchanged; approved, all gone', async () => {
    const before = store();
    const preview = await t.call('helm_uninstall', { release: 'shop' });
    expect(preview.isError, preview.text).toBe(false);
    expect(
      preview.structured.preview.objects.map((o: { object: string; action: string }) => [o.object, o.action]),
    ).toEqual([
      ['Secret shop/shop-db', 'delete'],
      ['Service shop/shop-web', 'delete'],
      ['Deployment shop/shop-web', 'delete'],
    ]);
    expect(preview.text).toContain('3 objects to delete; history deleted');
    expect(store()).toBe(before);
    const r = await t.call('helm_uninstall', { release: 'shop', approval: preview.structured.approval });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.result.deleted).toHaveLength(3);
    expect(deployment()).toBeUndefined();
    expect(JSON.parse(await helmCli('list', '-o', 'json'))).toEqual([]);
    const releaseSecrets = fake.store
      .all()
      .filter((o) => o.kind === 'Secret' && o.metadata.labels?.owner === 'helm');
    expect(releaseSecrets).toEqual([]);
  });

  it('no release Secret, chart value or password reached an answer or the audit log', () => {
    const audit = JSON.stringify(t.audit.records);
    for (const s of SECRETS) expect(audit).not.toContain(s);
    // helm's release records (gzip+base64 of the whole release, values included) never show either
    expect(audit).not.toMatch(/H4sI/);
  });
});

describe('refusals: nothing runs', () => {
  it('write tools are denied under a read-only policy; reads still work', async () => {
    const ro = await connect([plugin()], { policy: { readOnly: true } } as never);
    for (const [tool, args] of [
      ['helm_upgrade', { release: 'x', chart: 'web' }],
      ['helm_rollback', { release: 'x' }],
      ['helm_uninstall', { release: 'x' }],
    ] as const) {
      const r = await ro.call(tool, args);
      expect(r.errorCode, tool).toBe(ErrorCodes.denied);
    }
    expect((await ro.call('helm_list', {})).isError).toBe(false);
    await ro.close();
  });

  it('chart and values paths outside the charts root are refused', async () => {
    for (const chart of ['../', 'web/../../', '/etc', 'escape']) {
      const r = await t.call('helm_upgrade', { release: 'x', chart });
      expect(r.errorCode, chart).toBe('denied');
    }
    for (const values of [['../../etc/passwd'], ['/etc/passwd'], ['escape/passwd']]) {
      const r = await t.call('helm_upgrade', { release: 'x', chart: 'web', values });
      expect(r.errorCode, JSON.stringify(values)).toBe('denied');
    }
  });

  it('namespaces outside the allow-list are refused; allNamespaces shows only allowed ones', async () => {
    const r = await t.call('helm_list', { namespace: 'kube-system' });
    expect(r.errorCode).toBe('denied_by_policy');
    expect(r.text).toMatch(/namespace "kube-system"/);
    const up = await t.call('helm_upgrade', { release: 'x', chart: 'web', namespace: 'kube-system' });
    expect(up.errorCode).toBe('denied_by_policy');
    await helmCli('install', 'hidden', join(root, 'web'), '-n', 'kube-system');
    await helmCli('install', 'seen', join(root, 'web'));
    const all = await t.call('helm_list', { allNamespaces: true });
    expect(all.structured.releases.map((x: { name: string }) => x.name)).toEqual(['seen']);
    await helmCli('uninstall', 'hidden', '-n', 'kube-system');
    await helmCli('uninstall', 'seen');
  });

  it('a missing binary names the config key', async () => {
    const t2 = await connect([plugin({ binary: '/nope/helm' })]);
    const r = await t2.call('helm_list', {});
    expect(r.errorCode).toBe('binary_not_found');
    expect(r.text).toMatch(/plugins\.helm\.binary/);
    await t2.close();
  });

  it("helm's non-zero exit reaches the model with its stderr, secrets masked", async () => {
    const r = await t.call('helm_upgrade', {
      release: 'x',
      chart: 'failing',
      set: { 'database.password': 'set-pass-7731' },
    });
    expect(r.errorCode).toBe('command_failed');
    expect(r.text).toMatch(/helm upgrade exited 1/);
    expect(r.text).toMatch(/cannot reach the database with \[REDACTED\]/);
    expect(JSON.stringify(r.raw)).not.toContain('set-pass-7731');
    expect(JSON.stringify(t.audit.records)).not.toContain('set-pass-7731');
  });

  it('a release that does not exist is not_found', async () => {
    for (const tool of ['helm_status', 'helm_history', 'helm_rollback', 'helm_uninstall']) {
      const r = await t.call(tool, { release: 'nope' });
      expect(r.errorCode, tool).toBe('not_found');
      expect(r.text, tool).toMatch(/release "nope" (not found|has no history) in/);
    }
  });
});
