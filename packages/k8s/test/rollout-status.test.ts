import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kubeBinaries } from '@infra-mcp/testing/kube';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, cluster } from './cluster.js';

const run = promisify(execFile);
let c: Cluster;
// no controllers: each case sets the status a rollout would be in
beforeAll(async () => {
  c = await cluster({ fake: { controllers: false } });
});
afterAll(() => c.close());

/** `kubectl rollout status --watch=false`: its message, or its error. */
async function kubectlStatus(ref: string): Promise<{ message?: string; error?: string }> {
  try {
    const { stdout } = await run(kubeBinaries().kubectl, [
      '--kubeconfig',
      c.kubeconfig,
      '-n',
      'shop',
      'rollout',
      'status',
      ref,
      '--watch=false',
    ]);
    return { message: stdout.trim() };
  } catch (err) {
    // (before its error, kubectl may log that the fake serves no watch: the status is read by a list)
    const stderr = String((err as { stderr?: string }).stderr);
    return { error: /^error: (.*)$/m.exec(stderr)?.[1] ?? stderr };
  }
}

const template = (app: string) => ({
  metadata: { labels: { app } },
  spec: { containers: [{ name: 'main', image: `${app}:1` }] },
});
const objects = {
  Deployment: (spec: object, status: object) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template('web'), ...spec },
    status,
  }),
  StatefulSet: (spec: object, status: object) => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'shop' },
    spec: {
      replicas: 3,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: template('db'),
      // as the API server defaults it
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      ...spec,
    },
    status,
  }),
  DaemonSet: (spec: object, status: object) => ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'shop' },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: template('agent'),
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      ...spec,
    },
    status,
  }),
};
const refs = { Deployment: 'deployment/web', StatefulSet: 'statefulset/db', DaemonSet: 'daemonset/agent' };
const observed = { observedGeneration: 'current' };

const cases: [keyof typeof objects, string, object, object][] = [
  ['Deployment', 'spec not yet observed', {}, {}],
  ['Deployment', 'updating', {}, { ...observed, replicas: 2, updatedReplicas: 1, availableReplicas: 1 }],
  [
    'Deployment',
    'old replicas terminating',
    {},
    { ...observed, replicas: 3, updatedReplicas: 2, availableReplicas: 2 },
  ],
  [
    'Deployment',
    'not yet available',
    {},
    { ...observed, replicas: 2, updatedReplicas: 2, availableReplicas: 1 },
  ],
  [
    'Deployment',
    'done',
    {},
    { ...observed, replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 },
  ],
  [
    'Deployment',
    'past its progress deadline',
    {},
    {
      ...observed,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    },
  ],
  ['StatefulSet', 'pods not ready', {}, { ...observed, readyReplicas: 1 }],
  ['StatefulSet', 'all ready and updated', {}, { ...observed, readyReplicas: 3, updatedReplicas: 3 }],
  [
    'StatefulSet',
    'no rollingUpdate, revisions differ',
    { updateStrategy: { type: 'RollingUpdate' } },
    { ...observed, readyReplicas: 3, updatedReplicas: 1, currentRevision: 'db-a', updateRevision: 'db-b' },
  ],
  [
    'StatefulSet',
    'no rollingUpdate, done',
    { updateStrategy: { type: 'RollingUpdate' } },
    { ...observed, readyReplicas: 3, currentReplicas: 3, currentRevision: 'db-b', updateRevision: 'db-b' },
  ],
  [
    'StatefulSet',
    'partitioned, in progress',
    { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
    { ...observed, readyReplicas: 3, updatedReplicas: 1 },
  ],
  [
    'StatefulSet',
    'partitioned, done',
    { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } },
    { ...observed, readyReplicas: 3, updatedReplicas: 2 },
  ],
  ['StatefulSet', 'OnDelete', { updateStrategy: { type: 'OnDelete' } }, observed],
  [
    'DaemonSet',
    'updating',
    {},
    { ...observed, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 2 },
  ],
  [
    'DaemonSet',
    'not yet available',
    {},
    { ...observed, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 },
  ],
  [
    'DaemonSet',
    'done',
    {},
    { ...observed, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 },
  ],
  ['DaemonSet', 'OnDelete', { updateStrategy: { type: 'OnDelete' } }, observed],
];

describe('k8s_rollout_status says what kubectl rollout status says', () => {
  it.each(cases)('%s, %s', async (kind, _what, spec, status) => {
    // the spec as given (its generation bumped), then the status a controller reports having seen it
    const [o] = c.fake.add(objects[kind](spec, {}));
    const seen = 'observedGeneration' in status ? { observedGeneration: o?.metadata.generation } : {};
    c.fake.add({ ...o, status: { ...status, ...seen } });
    const theirs = await kubectlStatus(refs[kind]);
    const ours = await c.t.call('k8s_rollout_status', { kind, name: refs[kind].split('/')[1] });
    if (theirs.error) {
      expect(ours.isError, `kubectl: ${theirs.error}; ours: ${ours.text}`).toBe(true);
      expect(ours.text).toContain(theirs.error);
    } else {
      expect(ours.isError, ours.text).toBe(false);
      expect(ours.structured.message).toBe(theirs.message);
      expect(ours.structured.done).toBe(
        /successfully rolled out|roll out complete|rolling update complete/.test(theirs.message ?? ''),
      );
    }
  });
});
