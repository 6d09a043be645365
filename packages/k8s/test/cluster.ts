import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TestClient } from '@infra-mcp/testing';
import { type FakeKube, type FakeKubeOptions, startFakeKube } from '@infra-mcp/testing/kube';
import { k8s } from '../src/index.js';

export const dir = mkdtempSync(join(tmpdir(), 'k8s-plugin-'));

/** A small cluster: namespace shop with a deployment (2 pods via a replicaset), a db pod, a secret, events. */
export function seed(fake: FakeKube, metrics = true): void {
  const ts = new Date(Date.now() - 3600_000).toISOString();
  fake.add(
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'web',
        namespace: 'shop',
        labels: { app: 'web' },
        managedFields: [{ manager: 'kubectl' }],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}', team: 'a' },
      },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'main',
                image: 'nginx:1.27',
                env: [
                  { name: 'DB_PASSWORD', value: 'hunter2-literal' },
                  { name: 'MODE', value: 'prod' },
                ],
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'shop' },
      type: 'Opaque',
      data: { password: 'czNjcjN0LXZhbHVl', user: 'YQ==' },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'shop' },
      data: { level: 'debug' },
    },
  );
  const deploy = fake.get('apps/v1', 'Deployment', 'web', 'shop')!;
  const ref = (o: any, apiVersion: string) => [
    { apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true },
  ];
  const [rs] = fake.add({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'web-7d4',
      namespace: 'shop',
      labels: { app: 'web' },
      ownerReferences: ref(deploy, 'apps/v1'),
    },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } } },
  });
  for (const [name, app, phase] of [
    ['web-7d4-a', 'web', 'Running'],
    ['web-7d4-b', 'web', 'Running'],
    ['db-0', 'db', 'Pending'],
  ] as const)
    fake.add({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: 'shop',
        labels: { app },
        creationTimestamp: ts,
        ...(app === 'web' ? { ownerReferences: ref(rs, 'apps/v1') } : {}),
      },
      spec: {
        containers: [
          { name: 'main', image: 'nginx', env: [{ name: 'API_TOKEN', value: 'tok-literal-123' }] },
        ],
      },
      status: { phase, containerStatuses: [{ name: 'main', ready: phase === 'Running', restartCount: 0 }] },
    });
  fake.add(
    {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e1', namespace: 'shop' },
      type: 'Normal',
      reason: 'Scheduled',
      message: 'assigned',
      involvedObject: { kind: 'Pod', name: 'db-0' },
      lastTimestamp: '2026-01-01T00:00:02Z',
    },
    {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e2', namespace: 'shop' },
      type: 'Warning',
      reason: 'FailedScheduling',
      message: '0/3 nodes are available',
      involvedObject: { kind: 'Pod', name: 'db-0' },
      lastTimestamp: '2026-01-01T00:00:01Z',
    },
    {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'e3', namespace: 'shop' },
      type: 'Normal',
      reason: 'ScalingReplicaSet',
      message: 'scaled up',
      involvedObject: { kind: 'Deployment', name: 'web' },
      lastTimestamp: '2026-01-01T00:00:03Z',
    },
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w1', namespace: 'shop' },
      spec: { size: 3 },
    },
  );
  if (metrics)
    fake.add({
      apiVersion: 'metrics.k8s.io/v1beta1',
      kind: 'PodMetrics',
      metadata: { name: 'db-0', namespace: 'shop' },
      containers: [{ name: 'main', usage: { cpu: '12m', memory: '64Mi' } }],
    });
  const lines = Array.from({ length: 300 }, (_, i) => ({
    time: new Date(Date.now() - (300 - i) * 1000).toISOString(),
    text: `${i % 50 === 0 ? 'ERROR' : 'info'} request ${i}`,
  }));
  fake.logs.set('shop/web-7d4-a/main', lines);
  fake.logs.set('shop/web-7d4-b/main', lines.slice(0, 3));
  fake.logs.set('shop/db-0/main/previous', [
    { time: new Date().toISOString(), text: 'panic: cannot connect' },
  ]);
}

export interface Cluster {
  fake: FakeKube;
  kubeconfig: string;
  t: TestClient;
  close(): Promise<void>;
}

let n = 0;
/** A seeded fake cluster and an MCP client of the k8s plugin on it. */
export async function cluster(
  o: {
    fake?: FakeKubeOptions;
    plugin?: Record<string, unknown>;
    contexts?: string[];
    namespace?: string;
    connect?: Record<string, unknown>;
  } = {},
): Promise<Cluster> {
  const fake = await startFakeKube({ tls: true, token: 'kube-token-s3cret', ...o.fake });
  seed(fake, o.fake?.metrics !== false);
  const kubeconfig = join(dir, `kubeconfig-${++n}.yaml`);
  writeFileSync(kubeconfig, fake.kubeconfig({ contexts: o.contexts, namespace: o.namespace ?? 'shop' }));
  const t = await connect([k8s({ kubeconfig, ...o.plugin } as never)], { ...o.connect } as never);
  return {
    fake,
    kubeconfig,
    t,
    close: async () => {
      await t.close();
      await fake.close();
    },
  };
}
