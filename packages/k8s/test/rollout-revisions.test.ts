import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubeBinaries } from '@infra-mcp/testing/kube';
import { afterEach, describe, expect, it } from 'vitest';
import { type Cluster, cluster } from './cluster.js';

const run = promisify(execFile);
let c: Cluster;
afterEach(() => c?.close());

const kubectl = async (...args: string[]) =>
  (await run(kubeBinaries().kubectl, ['--kubeconfig', c.kubeconfig, '-n', 'shop', ...args])).stdout;

/** `kubectl rollout history` rows: [revision, change cause]. */
const kubectlHistory = async (ref: string) =>
  (await kubectl('rollout', 'history', ref))
    .trim()
    .split('\n')
    .slice(2) // the object line, then the header
    .map((l) => l.trim().split(/\s{2,}/))
    .map(([rev, cause]) => [Number(rev), cause]);

async function pluginHistory(kind: string, name: string) {
  const h = await c.t.call('k8s_rollout_history', { kind, name });
  expect(h.isError, h.text).toBe(false);
  return h.structured.revisions.map((r: any) => [r.revision, r.changeCause ?? '<none>']);
}

const workloads = {
  StatefulSet: { ref: 'statefulset/db', name: 'db', image: 'postgres' },
  DaemonSet: { ref: 'daemonset/agent', name: 'agent', image: 'agent' },
} as const;

describe.each(Object.entries(workloads))(
  'rollout history and undo of a %s (ControllerRevisions), as kubectl does',
  (kind, w) => {
    async function setup() {
      c = await cluster();
      c.fake.add({
        apiVersion: 'apps/v1',
        kind,
        metadata: { name: w.name, namespace: 'shop' },
        spec: {
          ...(kind === 'StatefulSet' ? { replicas: 2, serviceName: w.name } : {}),
          selector: { matchLabels: { app: w.name } },
          template: {
            metadata: { labels: { app: w.name } },
            spec: {
              containers: [{ name: 'main', image: `${w.image}:1`, env: [{ name: 'MODE', value: 'prod' }] }],
            },
          },
        },
      });
      // the real kubectl changes the template twice (strategic merge patches); the fake's controller records revisions
      await kubectl('annotate', w.ref, 'kubernetes.io/change-cause=bump to 2');
      await kubectl('set', 'image', w.ref, `main=${w.image}:2`);
      await kubectl('annotate', '--overwrite', w.ref, 'kubernetes.io/change-cause=bump to 3');
      await kubectl('set', 'image', w.ref, `main=${w.image}:3`);
    }
    const image = () => c.fake.get('apps/v1', kind, w.name, 'shop')!.spec.template.spec.containers[0];

    it('history: the same revisions and change causes as kubectl rollout history', async () => {
      await setup();
      const theirs = await kubectlHistory(w.ref);
      expect(theirs).toEqual([
        [1, '<none>'],
        [2, 'bump to 2'],
        [3, 'bump to 3'],
      ]);
      expect(await pluginHistory(kind, w.name)).toEqual(theirs);
      const h = await c.t.call('k8s_rollout_history', { kind, name: w.name });
      expect(h.structured.revisions.map((r: any) => r.images)).toEqual([
        [`${w.image}:1`],
        [`${w.image}:2`],
        [`${w.image}:3`],
      ]);
      expect(h.text).toContain('CONTROLLERREVISION');
    });

    it('undo: the same target and patch as kubectl rollout undo --dry-run=server; then applied, the history renumbered alike', async () => {
      await setup();
      const rv = c.fake.get('apps/v1', kind, w.name, 'shop')!.metadata.resourceVersion;
      expect((await kubectl('rollout', 'undo', w.ref, '--dry-run=server')).trim()).toMatch(
        /rolled back \(server dry run\)$/,
      );
      const kubectlPatch = c.fake.requests.findLast((r) => r.method === 'PATCH');
      expect(kubectlPatch?.url).toContain('dryRun=All');
      expect(c.fake.get('apps/v1', kind, w.name, 'shop')!.metadata.resourceVersion).toBe(rv);

      const dry = await c.t.call('k8s_rollout_undo', { kind, name: w.name });
      expect(dry.isError, dry.text).toBe(false);
      // kubectl's default target is the second newest revision: 2
      expect(dry.structured.summary).toBe(`roll ${kind} shop/${w.name} back to revision 2 (${w.image}:2)`);
      expect(dry.text).toContain(`"image":"${w.image}:3"`);
      const done = await c.t.call('k8s_rollout_undo', {
        kind,
        name: w.name,
        approval: dry.structured.approval,
      });
      expect(done.isError, done.text).toBe(false);
      const ours = c.fake.requests.findLast((r) => r.method === 'PATCH');
      expect(ours?.contentType).toBe(kubectlPatch?.contentType); // the revision's strategic merge patch, as kubectl sends it
      expect(image()).toEqual({
        name: 'main',
        image: `${w.image}:2`,
        env: [{ name: 'MODE', value: 'prod' }],
      });

      // the controller renumbered revision 2 as 4: kubectl and the plugin read the same history
      const theirs = await kubectlHistory(w.ref);
      expect(theirs.map(([r]) => r)).toEqual([1, 3, 4]);
      expect(await pluginHistory(kind, w.name)).toEqual(theirs);

      // kubectl undoes to a revision the plugin listed; the plugin then sees where kubectl left it
      await kubectl('rollout', 'undo', w.ref, '--to-revision=1');
      expect(image().image).toBe(`${w.image}:1`);
      expect((await pluginHistory(kind, w.name)).map(([r]: number[]) => r)).toEqual([3, 4, 5]);
      const again = await c.t.call('k8s_rollout_undo', { kind, name: w.name, toRevision: 1 });
      expect(again.isError).toBe(true);
      expect(again.text).toContain(`${kind} ${w.name} has no revision 1`);
    });
  },
);
