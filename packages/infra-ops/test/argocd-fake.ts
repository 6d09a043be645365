/**
 * A loopback fake Argo CD API server that answers only (method, path) pairs declared in Argo CD's
 * own OpenAPI description (fixtures/argocd-api/swagger.json). Every request is checked: path
 * template and method declared, query parameters declared (plus `fields`, the server's response
 * projection, which Argo CD implements outside the gateway definitions), body properties declared.
 * Anything else is recorded in `violations` and answered 404/400. A sync changes state.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';

const SWAGGER = join(import.meta.dirname, 'fixtures', 'argocd-api', 'swagger.json');

interface Op {
  method: string;
  template: string;
  re: RegExp;
  names: string[];
  query: Set<string>;
  body?: Set<string>;
}

function loadOps(): Op[] {
  const s = JSON.parse(readFileSync(SWAGGER, 'utf8'));
  const ops: Op[] = [];
  for (const [template, methods] of Object.entries<Record<string, any>>(s.paths)) {
    const names: string[] = [];
    const re = new RegExp(
      `^${template.replace(/\{([^}]+)\}/g, (_m, n) => {
        names.push(n);
        return '([^/]+)';
      })}$`,
    );
    for (const [method, op] of Object.entries<any>(methods)) {
      const params: any[] = op.parameters ?? [];
      const bodyParam = params.find((p) => p.in === 'body');
      let body: Set<string> | undefined;
      if (bodyParam?.schema?.$ref) {
        const def = s.definitions[bodyParam.schema.$ref.split('/').pop()];
        body = new Set(Object.keys(def?.properties ?? {}));
      }
      ops.push({
        method: method.toUpperCase(),
        template,
        re,
        names,
        query: new Set(params.filter((p) => p.in === 'query').map((p) => p.name)),
        body,
      });
    }
  }
  return ops;
}

export interface FakeApp {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: {
    project: string;
    destination: { server: string; namespace: string };
    source: { repoURL: string; path: string; targetRevision: string };
  };
  status: {
    sync: { status: string; revision: string };
    health: { status: string };
    resources: {
      group: string;
      version: string;
      kind: string;
      namespace: string;
      name: string;
      status: string;
      health?: { status: string };
      requiresPruning?: boolean;
    }[];
    history: { id: number; revision: string; deployedAt: string }[];
    operationState?: {
      phase: string;
      message: string;
      startedAt: string;
      finishedAt?: string;
      syncResult?: unknown;
    };
    reconciledAt: string;
    summary: { images: string[] };
    conditions: unknown[];
  };
}

export function makeApp(i: number): FakeApp {
  const name = `app-${String(i).padStart(3, '0')}`;
  const outOfSync = i % 10 === 3;
  const degraded = i % 25 === 7;
  const resources = Array.from({ length: 8 }, (_, k) => ({
    group: k % 2 ? 'apps' : '',
    version: 'v1',
    kind: k % 2 ? 'Deployment' : 'ConfigMap',
    namespace: `team-${i % 7}`,
    name: `${name}-r${k}`,
    status: outOfSync && k < 2 ? 'OutOfSync' : 'Synced',
    health: { status: degraded && k === 1 ? 'Degraded' : 'Healthy' },
    ...(outOfSync && k === 0 ? { requiresPruning: true } : {}),
  }));
  return {
    metadata: { name, namespace: 'argocd', resourceVersion: String(1000 + i) },
    spec: {
      project: i % 3 ? 'default' : 'platform',
      destination: { server: 'https://kubernetes.default.svc', namespace: `team-${i % 7}` },
      source: { repoURL: 'https://git.example.com/deploy.git', path: `apps/${name}`, targetRevision: 'HEAD' },
    },
    status: {
      sync: { status: outOfSync ? 'OutOfSync' : 'Synced', revision: 'a'.repeat(40) },
      health: { status: degraded ? 'Degraded' : 'Healthy' },
      resources,
      history: [
        { id: 1, revision: 'b'.repeat(40), deployedAt: '2026-11-01T10:00:00Z' },
        { id: 2, revision: 'a'.repeat(40), deployedAt: '2026-11-20T10:00:00Z' },
      ],
      reconciledAt: '2026-11-23T20:00:00Z',
      summary: { images: [`registry.example.com/${name}:1.2.3`, 'registry.example.com/sidecar:0.9'] },
      conditions: [],
    },
  };
}

/** Keeps only the dotted `fields` paths (items.metadata.name, ...), the way Argo CD's projection does. */
export function project(value: any, fields: string[]): any {
  const out: any = {};
  for (const f of fields) {
    const parts = f.split('.');
    const copy = (src: any, dst: any, i: number): void => {
      if (src === undefined || src === null) return;
      const key = parts[i]!;
      if (Array.isArray(src[key]) && i < parts.length - 1) {
        dst[key] ??= src[key].map(() => ({}));
        for (const [j, el] of (src[key] as any[]).entries()) copy(el, dst[key][j], i + 1);
      } else if (i === parts.length - 1) {
        if (src[key] !== undefined) dst[key] = src[key];
      } else {
        dst[key] ??= {};
        copy(src[key], dst[key], i + 1);
      }
    };
    copy(value, out, 0);
  }
  return out;
}

export interface ArgoFake {
  url: string;
  token: string;
  apps: Map<string, FakeApp>;
  requests: { method: string; path: string; template?: string; query: string[]; body?: any }[];
  violations: string[];
  syncs: any[];
  /** GETs of an app an operation stays Running for. */
  runningPolls: number;
  close(): Promise<void>;
}

const grpcError = (code: number, message: string) => JSON.stringify({ error: message, code, message });

export async function startArgoFake(opts: { apps?: number; token?: string } = {}): Promise<ArgoFake> {
  const ops = loadOps();
  const token = opts.token ?? 'argocd-test-token-0123456789';
  const apps = new Map<string, FakeApp>();
  for (let i = 1; i <= (opts.apps ?? 200); i++) {
    const a = makeApp(i);
    apps.set(a.metadata.name, a);
  }
  const fake: ArgoFake = {
    url: '',
    token,
    apps,
    requests: [],
    violations: [],
    syncs: [],
    runningPolls: 1,
    close: async () => {},
  };
  const pollsLeft = new Map<string, number>();
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let s = '';
      req.on('data', (c) => {
        s += c;
      });
      req.on('end', () => resolve(s));
    });
  const server: Server = createServer(async (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const raw = await readBody(req);
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body);
    };
    const candidates = ops.filter((o) => o.re.test(u.pathname));
    // the most literal template wins (manifestsWithFiles before {name})
    candidates.sort((a, b) => a.names.length - b.names.length);
    const op = candidates.find((o) => o.method === req.method);
    const entry = {
      method: req.method!,
      path: u.pathname,
      template: op?.template,
      query: [...u.searchParams.keys()],
      body: raw ? JSON.parse(raw) : undefined,
    };
    fake.requests.push(entry);
    if (!op) {
      fake.violations.push(`${req.method} ${u.pathname}: not declared`);
      return send(404, grpcError(5, 'Not Found'));
    }
    for (const q of u.searchParams.keys())
      if (!op.query.has(q) && q !== 'fields')
        fake.violations.push(`${req.method} ${op.template}: query ${q} not declared`);
    if (entry.body && op.body)
      for (const k of Object.keys(entry.body))
        if (!op.body.has(k))
          fake.violations.push(`${req.method} ${op.template}: body property ${k} not declared`);
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, grpcError(16, 'invalid session'));
    const params: Record<string, string> = {};
    const m = op.re.exec(u.pathname)!;
    op.names.forEach((n, i) => {
      params[n] = decodeURIComponent(m[i + 1]!);
    });
    const appName = params.name ?? params.applicationName;
    const app = appName ? apps.get(appName) : undefined;
    if (appName && !app) return send(404, grpcError(5, `applications.argoproj.io "${appName}" not found`));
    const key = `${req.method} ${op.template}`;
    switch (key) {
      case 'GET /api/v1/applications': {
        const fields = u.searchParams.get('fields')?.split(',');
        const projects = u.searchParams.getAll('projects');
        const items = [...apps.values()].filter((a) => !projects.length || projects.includes(a.spec.project));
        const list = { metadata: { resourceVersion: '5000' }, items };
        return send(200, JSON.stringify(fields ? project(list, fields) : list));
      }
      case 'GET /api/v1/applications/{name}': {
        const op = app!.status.operationState;
        if (op?.phase === 'Running') {
          const left = (pollsLeft.get(appName!) ?? 0) - 1;
          pollsLeft.set(appName!, left);
          if (left < 0) {
            op.phase = 'Succeeded';
            op.message = 'successfully synced (all tasks run)';
            op.finishedAt = new Date().toISOString();
          }
        }
        return send(200, JSON.stringify(app));
      }
      case 'GET /api/v1/applications/{applicationName}/resource-tree': {
        const nodes = app!.status.resources.map((r, k) => ({
          ...r,
          uid: `uid-${appName}-${k}`,
          resourceVersion: '1',
          parentRefs: [],
          health: r.health,
          createdAt: '2026-11-01T10:00:00Z',
        }));
        const pods = app!.status.resources
          .filter((r) => r.kind === 'Deployment')
          .flatMap((r) =>
            [0, 1].map((p) => ({
              group: '',
              version: 'v1',
              kind: 'Pod',
              namespace: r.namespace,
              name: `${r.name}-pod-${p}`,
              uid: `pod-${r.name}-${p}`,
              parentRefs: [{ kind: 'ReplicaSet', name: `${r.name}-rs` }],
              health: { status: 'Healthy' },
              info: [{ name: 'Status Reason', value: 'Running' }],
            })),
          );
        return send(200, JSON.stringify({ nodes: [...nodes, ...pods], hosts: [] }));
      }
      case 'GET /api/v1/applications/{applicationName}/managed-resources': {
        const items = app!.status.resources.map((r) => ({
          group: r.group,
          kind: r.kind,
          namespace: r.namespace,
          name: r.name,
          modified: r.status === 'OutOfSync',
          targetState: r.requiresPruning
            ? 'null'
            : JSON.stringify({ kind: r.kind, metadata: { name: r.name } }),
          liveState: JSON.stringify({ kind: r.kind, metadata: { name: r.name } }),
        }));
        return send(200, JSON.stringify({ items }));
      }
      case 'POST /api/v1/applications/{name}/sync': {
        const body = entry.body ?? {};
        if (body.revision === 'does-not-exist')
          return send(400, grpcError(3, `rpc error: revision ${body.revision} must be resolved`));
        if (app!.status.operationState?.phase === 'Running')
          return send(400, grpcError(9, 'another operation is already in progress'));
        fake.syncs.push({ app: appName, ...body });
        if (body.dryRun) return send(200, JSON.stringify(app));
        app!.status.operationState = {
          phase: 'Running',
          message: 'one or more tasks are running',
          startedAt: new Date().toISOString(),
        };
        pollsLeft.set(appName!, fake.runningPolls);
        app!.status.resources = app!.status.resources
          .filter((r) => !(r.requiresPruning && body.prune))
          .map((r) => ({ ...r, status: r.requiresPruning && !body.prune ? 'OutOfSync' : 'Synced' }));
        app!.status.sync.status = app!.status.resources.some((r) => r.status === 'OutOfSync')
          ? 'OutOfSync'
          : 'Synced';
        app!.metadata.resourceVersion = String(Number(app!.metadata.resourceVersion) + 1);
        return send(200, JSON.stringify(app));
      }
      case 'POST /api/v1/applications/{name}/rollback': {
        const body = entry.body ?? {};
        const h = app!.status.history.find((x) => String(x.id) === String(body.id));
        if (!h)
          return send(
            400,
            grpcError(3, `application ${appName} does not have deployment with id ${body.id}`),
          );
        fake.syncs.push({ app: appName, rollback: body.id, dryRun: body.dryRun });
        if (!body.dryRun) {
          app!.status.operationState = {
            phase: 'Running',
            message: 'rolling back',
            startedAt: new Date().toISOString(),
          };
          pollsLeft.set(appName!, fake.runningPolls);
          app!.status.sync.revision = h.revision;
          app!.metadata.resourceVersion = String(Number(app!.metadata.resourceVersion) + 1);
        }
        return send(200, JSON.stringify(app));
      }
      default:
        return send(501, grpcError(12, `${key} is declared but this fake does not serve it`));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}
