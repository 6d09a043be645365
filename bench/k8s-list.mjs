#!/usr/bin/env node
// k8s_list against the fake API server with 2,000 realistic pods (~7.5 KB each, managedFields
// included) in 20 namespaces: bytes of the default answer (pods, all namespaces) per page and per pod,
// the pages needed to read them all by cursor, time per call, versus the raw JSON list and the real
// `kubectl get pods -A` text. Goal: every page within the budget, <= 80 B per pod.
//
//   pnpm build && node bench/k8s-list.mjs
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { k8s } from '../packages/k8s/dist/index.js';
import { connect } from '../packages/testing/dist/index.js';
import { kubeBinaries, startFakeKube } from '../packages/testing/dist/kube.js';

const PODS = 2000;
const NAMESPACES = 20;
const work = mkdtempSync(join(tmpdir(), 'k8s-list-bench-'));
const fake = await startFakeKube({ tls: true, token: 'bench-token' });

function pod(i) {
  const ns = `team-${String(i % NAMESPACES).padStart(2, '0')}`;
  const app = `svc-${i % 37}`;
  const name = `${app}-7f9c8d6b5-${(i * 7919).toString(36).padStart(5, 'x').slice(-5)}`;
  const container = (n) => ({
    name: n,
    image: `registry.example.com/platform/${app}:1.${i % 9}.${i % 13}`,
    ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }],
    env: Array.from({ length: 8 }, (_, k) => ({ name: `SETTING_${k}`, value: `value-${k}-${i}` })),
    resources: { limits: { cpu: '500m', memory: '512Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    volumeMounts: [
      { name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
    livenessProbe: {
      httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' },
      periodSeconds: 10,
      timeoutSeconds: 1,
      failureThreshold: 3,
    },
    readinessProbe: {
      httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' },
      periodSeconds: 5,
      timeoutSeconds: 1,
      failureThreshold: 3,
    },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  });
  const fields = Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`f:field${k}`, {}]));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { app, 'pod-template-hash': '7f9c8d6b5', team: ns },
      annotations: {
        'kubectl.kubernetes.io/restartedAt': '2026-11-01T10:00:00Z',
        'prometheus.io/scrape': 'true',
      },
      creationTimestamp: new Date(Date.now() - (i % 500) * 3600_000).toISOString(),
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${app}-7f9c8d6b5`,
          uid: '00000000-0000-0000-0000-000000000000',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-11-01T10:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': fields, 'f:spec': fields },
        },
        {
          manager: 'kubelet',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-11-01T10:00:05Z',
          fieldsType: 'FieldsV1',
          subresource: 'status',
          fieldsV1: { 'f:status': fields },
        },
      ],
    },
    spec: {
      containers: [container('app'), container('sidecar')],
      nodeName: `node-${i % 50}`,
      serviceAccountName: 'default',
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      terminationGracePeriodSeconds: 30,
      volumes: [
        {
          name: 'kube-api-access',
          projected: {
            defaultMode: 420,
            sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }],
          },
        },
      ],
      tolerations: [
        {
          key: 'node.kubernetes.io/not-ready',
          operator: 'Exists',
          effect: 'NoExecute',
          tolerationSeconds: 300,
        },
      ],
    },
    status: {
      phase: i % 97 === 0 ? 'Pending' : 'Running',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({
        type,
        status: 'True',
        lastTransitionTime: '2026-11-01T10:00:05Z',
      })),
      hostIP: `10.0.${i % 50}.1`,
      podIP: `10.244.${i % 250}.${i % 200}`,
      startTime: '2026-11-01T10:00:00Z',
      containerStatuses: ['app', 'sidecar'].map((n) => ({
        name: n,
        ready: i % 97 !== 0,
        restartCount: i % 11 === 0 ? 3 : 0,
        image: 'x',
        imageID: `registry.example.com/platform/${app}@sha256:${'a'.repeat(64)}`,
        containerID: `containerd://${'b'.repeat(64)}`,
        started: true,
        state: { running: { startedAt: '2026-11-01T10:00:04Z' } },
      })),
      qosClass: 'Burstable',
    },
  };
}

for (let n = 0; n < NAMESPACES; n++)
  fake.add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${String(n).padStart(2, '0')}` } });
for (let i = 0; i < PODS; i++) fake.add(pod(i));

const kubeconfig = join(work, 'kubeconfig.json');
writeFileSync(kubeconfig, fake.kubeconfig());
// the raw JSON list the API server would send (read from the fake's store: its CA is self-signed)
const rawBytes = Buffer.byteLength(
  JSON.stringify({
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: {},
    items: fake.store.list({ group: '', plural: 'pods', namespaced: true }),
  }),
);
const kubectlText = (
  await promisify(execFile)(
    kubeBinaries().kubectl,
    ['--kubeconfig', kubeconfig, '--cache-dir', join(work, 'cache'), 'get', 'pods', '-A'],
    { maxBuffer: 64 << 20 },
  )
).stdout;

const t = await connect([k8s({ kubeconfig })], { checkPlans: false });
const budget = t.server.options?.maxBytes ?? 16_384;
let cursor;
let pages = 0;
let pods = 0;
let bytes = 0;
let maxPage = 0;
const times = [];
do {
  const start = performance.now();
  const r = await t.call('k8s_list', { kind: 'pods', allNamespaces: true, ...(cursor ? { cursor } : {}) });
  times.push(performance.now() - start);
  if (r.isError) throw new Error(r.text);
  const size = Buffer.byteLength(JSON.stringify(r.structured)) + Buffer.byteLength(r.text);
  bytes += size;
  maxPage = Math.max(maxPage, size);
  pods += r.structured.shown;
  pages++;
  cursor = r.structured.nextCursor;
} while (cursor && pages < 1000);
times.sort((a, b) => a - b);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(
  `k8s_list pods, all namespaces: ${PODS} pods in ${NAMESPACES} namespaces (fake API server, ${kb(rawBytes / PODS)} per pod raw)`,
);
console.log(`  raw JSON list                 ${kb(rawBytes)}  (${(rawBytes / PODS).toFixed(0)} B/pod)`);
console.log(
  `  kubectl get pods -A (text)    ${kb(Buffer.byteLength(kubectlText))}  (${(Buffer.byteLength(kubectlText) / PODS).toFixed(0)} B/pod)`,
);
console.log(
  `  k8s_list, all pages           ${kb(bytes)}  (${(bytes / pods).toFixed(0)} B/pod, structured + text), ${pods} pods in ${pages} pages`,
);
console.log(`  largest page                  ${maxPage} B (budget ${budget} B)`);
console.log(
  `  time per call                 median ${times[Math.floor(times.length / 2)].toFixed(1)} ms, max ${times.at(-1).toFixed(1)} ms`,
);
console.log(
  `goal: every page within the budget, <= 80 B per pod: ${maxPage <= budget && bytes / pods <= 80 ? 'met' : 'NOT met'}`,
);
await t.close();
await fake.close();
