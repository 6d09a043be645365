import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type FakeKube, kubeBinaries, startFakeKube } from '@infra-mcp/testing/kube';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

// The rendered chart, accepted by the real kubectl 1.33 (server-side apply, dry run and real) against
// the loopback fake API server, and read back with `kubectl get`.
const chart = fileURLToPath(new URL('../helm/infra-mcp', import.meta.url));
const run = promisify(execFile);
let bins: ReturnType<typeof kubeBinaries>;
let fake: FakeKube;
let dir: string;

beforeAll(async () => {
  bins = kubeBinaries();
  dir = mkdtempSync(join(tmpdir(), 'infra-mcp-kubectl-'));
  fake = await startFakeKube();
  writeFileSync(join(dir, 'kubeconfig'), fake.kubeconfig());
});
afterAll(async () => {
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  PATH: process.env.PATH,
  HOME: dir,
  KUBECONFIG: join(dir, 'kubeconfig'),
  HELM_CACHE_HOME: join(dir, 'helm-cache'),
  HELM_CONFIG_HOME: join(dir, 'helm-config'),
  HELM_DATA_HOME: join(dir, 'helm-data'),
});
// asynchronous: the fake answers from this process
const kubectl = (...args: string[]) => run(bins.kubectl, args, { env: env(), maxBuffer: 16 << 20 });

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; [k: string]: any };
  [k: string]: any;
};

/** `helm template` of the chart into a file: its path and the rendered objects. */
async function render(release: string, values: unknown): Promise<{ file: string; docs: Obj[] }> {
  const valuesFile = join(dir, `${release}-values.json`);
  writeFileSync(valuesFile, JSON.stringify(values));
  const { stdout } = await run(
    bins.helm,
    ['template', release, chart, '--namespace', 'ops', '-f', valuesFile],
    { env: env(), maxBuffer: 16 << 20 },
  );
  const file = join(dir, `${release}.yaml`);
  writeFileSync(file, stdout);
  const docs = parseAllDocuments(stdout)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
  return { file, docs };
}

// every kind the chart can render: PDB, HPA, NetworkPolicy, read and write ClusterRoles
const everything = {
  autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 9 },
  networkPolicy: { enabled: true, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] },
  rbac: { writes: true },
  podDisruptionBudget: { enabled: true },
  plugins: ['prometheus', 'k8s'],
  config: { plugins: { prometheus: { url: 'http://prometheus.monitoring:9090' } } },
};

const ref = (o: Obj) => `${o.kind}/${o.metadata.name}`;

describe('the rendered chart with the real kubectl against the fake API server', () => {
  it('server-side dry run accepts every object and creates none; the real apply creates them as rendered', async () => {
    fake.add({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ops' } });
    for (const [release, values] of [
      ['team', {}],
      ['full', everything],
    ] as const) {
      const { file, docs } = await render(release, values);
      const kinds = new Set(docs.map((d) => d.kind));
      if (release === 'full')
        for (const k of ['PodDisruptionBudget', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'ClusterRole'])
          expect(kinds, k).toContain(k);

      const dry = await kubectl('apply', '--server-side', '--dry-run=server', '-n', 'ops', '-f', file);
      const dryLines = dry.stdout.trim().split('\n');
      expect(dryLines, release).toHaveLength(docs.length);
      for (const line of dryLines) expect(line).toMatch(/ serverside-applied \(server dry run\)$/);
      const none = await kubectl('get', '-n', 'ops', '-f', file, '-o', 'name').catch((e) => e);
      expect(none.stderr, release).toMatch(/NotFound/);
      expect(none.stdout ?? '', release).toBe('');

      const applied = await kubectl('apply', '--server-side', '-n', 'ops', '-f', file);
      expect(applied.stdout.trim().split('\n'), release).toHaveLength(docs.length);

      const { stdout } = await kubectl('get', '-n', 'ops', '-f', file, '-o', 'json', '--show-managed-fields');
      const got = JSON.parse(stdout) as { items: Obj[] };
      const live = new Map(got.items.map((o) => [ref(o), o]));
      expect([...live.keys()].sort(), release).toEqual(docs.map(ref).sort());
      for (const want of docs) {
        const o = live.get(ref(want))!;
        const { metadata, ...body } = want;
        expect(o, ref(want)).toMatchObject({
          ...body,
          metadata: { name: metadata.name, labels: metadata.labels },
        });
        const clusterScoped = want.kind.startsWith('Cluster');
        expect(o.metadata.namespace, ref(want)).toBe(clusterScoped ? undefined : 'ops');
        expect(o.metadata.uid, ref(want)).toBeTruthy();
        expect(
          o.metadata.managedFields?.map((f: any) => f.manager),
          ref(want),
        ).toContain('kubectl');
      }
      // applying the same render again changes nothing
      const { stdout: before } = await kubectl('get', '-n', 'ops', '-f', file, '-o', 'json');
      await kubectl('apply', '--server-side', '-n', 'ops', '-f', file);
      const { stdout: after } = await kubectl('get', '-n', 'ops', '-f', file, '-o', 'json');
      const specs = (s: string) =>
        (JSON.parse(s) as { items: Obj[] }).items.map(({ metadata, status, ...rest }) => [
          metadata.name,
          metadata.generation,
          rest,
        ]);
      expect(specs(after), release).toEqual(specs(before));
    }
  });
});
