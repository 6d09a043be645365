/**
 * A loopback fake Kubernetes API server that real clients (kubectl, helm, @kubernetes/client-node)
 * accept: discovery, generic storage, selectors, paging, Table, server-side apply (dryRun=All),
 * delete with owners, scale, pods/log, metrics.k8s.io, SelfSubjectAccessReview, Status errors.
 */
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { aggregatedContentType, aggregatedDiscovery, aggregatedFormat } from './aggregated.js';
import { type ExecHandler, execServer } from './exec.js';
import { openApiDoc, openApiIndex } from './openapi.js';
import { fromProtobuf, UnsupportedProtobuf } from './protobuf.js';
import { apiVersionOf, groupList, type KubeResource, RESOURCES, resourceList } from './resources.js';
import { recordRevision, strategicMergePatch } from './revisions.js';
import { fieldSelector, labelSelector, SelectorError } from './selectors.js';
import { KubeStatus, mergePatch, notFound, type Obj, Store } from './store.js';
import { toTable } from './table.js';
import { FAKE_KUBE_CERT, FAKE_KUBE_KEY } from './tls.js';

export interface KubeRequestInfo {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface FakeKubeOptions {
  /** Serve HTTPS with the bundled loopback certificate (`ca` is its PEM). Default false. */
  tls?: boolean;
  /** Require `Authorization: Bearer <token>`; anything else is 401. */
  token?: string;
  /** Serve metrics.k8s.io (metrics-server present). Default true. */
  metrics?: boolean;
  /** Return true to answer 403 Forbidden (also the answer of a SelfSubjectAccessReview). */
  forbid?: (req: KubeRequestInfo) => boolean;
  /** Controllers settle workload status at once after each write. Default true. */
  controllers?: boolean;
  /** Answer `/api` and `/apis` in the aggregated form when the client asks for it (kubectl does). Default true. */
  aggregatedDiscovery?: boolean;
  /** Milliseconds to wait before answering a request (by its path and query): a slow API server. */
  latencyMs?: (url: string) => number;
}

export interface LogLine {
  time: string;
  text: string;
}

export interface FakeKube {
  url: string;
  /** PEM of the server certificate (HTTPS only). */
  ca?: string;
  store: Store;
  /** Every request: method, path with query, content type. */
  requests: { method: string; url: string; contentType?: string; accept?: string }[];
  /** Pod logs by `ns/pod/container` (`.../previous` for the previous instance). */
  logs: Map<string, LogLine[]>;
  /** Store objects as given (apiVersion and kind pick the resource). */
  add(...objs: Obj[]): Obj[];
  get(apiVersion: string, kind: string, name: string, namespace?: string): Obj | undefined;
  /** Run `pods/exec` commands (WebSocket, v5/v4 channel protocol): the last handler first, then built-ins (`exec.ts`). */
  onExec(handler: ExecHandler): void;
  /** A kubeconfig for this server (YAML). */
  kubeconfig(o?: { token?: string; context?: string; namespace?: string; contexts?: string[] }): string;
  close(): Promise<void>;
}

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const store = new Store();
  const metrics = options.metrics !== false;
  const resources = RESOURCES.filter((r) => metrics || r.api !== 'metrics');
  const requests: FakeKube['requests'] = [];
  const logs = new Map<string, LogLine[]>();

  const resourceOf = (apiVersion: string, kind: string) => {
    const r = resources.find((x) => apiVersionOf(x) === apiVersion && x.kind === kind);
    if (!r) throw new KubeStatus(404, 'NotFound', `no matches for kind "${kind}" in version "${apiVersion}"`);
    return r;
  };

  /** Store a write; the controllers that react to it (revision history) run after. */
  const commit = (r: KubeResource, next: Obj): Obj => {
    const stored = store.put(r, next);
    if (options.controllers !== false) recordRevision(store, resources, r, stored);
    return stored;
  };

  const exec = execServer({
    token: options.token,
    forbid: options.forbid,
    pod: (ns, name) => store.get(resources.find((x) => x.kind === 'Pod') as KubeResource, ns, name),
    record: (method, url) => requests.push({ method, url }),
  });

  const fake: FakeKube = {
    url: '',
    onExec: exec.onExec,
    store,
    requests,
    logs,
    add(...objs) {
      return objs.map((o) => {
        const r = resourceOf(o.apiVersion, o.kind);
        const prev = store.get(r, o.metadata.namespace, o.metadata.name);
        const next = store.prepare(r, o, o.metadata.namespace, prev);
        if (o.status === undefined) settle(r, next);
        return commit(r, next);
      });
    },
    get(apiVersion, kind, name, namespace) {
      return store.get(resourceOf(apiVersion, kind), namespace, name);
    },
    kubeconfig(o = {}) {
      const names = o.contexts ?? [o.context ?? 'fake'];
      const cluster = {
        server: fake.url,
        ...(fake.ca ? { 'certificate-authority-data': Buffer.from(fake.ca).toString('base64') } : {}),
      };
      return JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': names[0],
        clusters: [{ name: 'fake', cluster }],
        users: [{ name: 'tester', user: { token: o.token ?? options.token ?? 'fake-token' } }],
        contexts: names.map((name) => ({
          name,
          context: { cluster: 'fake', user: 'tester', ...(o.namespace ? { namespace: o.namespace } : {}) },
        })),
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        contentType: req.headers['content-type'],
        accept: req.headers.accept,
      });
      let status = 200;
      let body: unknown;
      let type = 'application/json';
      try {
        const auth = req.headers.authorization;
        if (options.token && auth !== `Bearer ${options.token}`)
          throw new KubeStatus(401, 'Unauthorized', 'Unauthorized');
        const out = route(req, Buffer.concat(chunks));
        status = out.status ?? 200;
        body = out.body;
        if (out.type) type = out.type;
      } catch (err) {
        const e =
          err instanceof KubeStatus
            ? err
            : err instanceof SelectorError
              ? new KubeStatus(400, 'BadRequest', err.message)
              : new KubeStatus(500, 'InternalError', String((err as Error).stack ?? err));
        status = e.code;
        body = e.body();
      }
      const send = () => {
        res.writeHead(status, { 'content-type': type });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      const wait = options.latencyMs?.(req.url ?? '/') ?? 0;
      if (wait > 0) setTimeout(send, wait);
      else send();
    });
  };

  function route(req: IncomingMessage, raw: Buffer): { status?: number; body: unknown; type?: string } {
    const url = new URL(req.url ?? '/', 'http://fake');
    const q = url.searchParams;
    const parts = url.pathname.split('/').filter(Boolean);
    const method = req.method ?? 'GET';
    if (url.pathname === '/version')
      return { body: { major: '1', minor: '33', gitVersion: 'v1.33.0-fake', platform: 'linux/amd64' } };
    if ((url.pathname === '/api' || url.pathname === '/apis') && options.aggregatedDiscovery !== false) {
      const v = aggregatedFormat(req.headers.accept);
      if (v) return { body: aggregatedDiscovery(resources, url.pathname, v), type: aggregatedContentType(v) };
    }
    if (url.pathname === '/api')
      return { body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    if (url.pathname === '/apis') return { body: groupList(resources) };
    if (url.pathname === '/openapi/v3') return { body: openApiIndex(resources) };
    if (url.pathname.startsWith('/openapi/v3/')) {
      const doc = openApiDoc(resources, url.pathname.slice('/openapi/v3/'.length));
      if (!doc) throw new KubeStatus(404, 'NotFound', 'the server could not find the requested resource');
      return { body: doc };
    }
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1]) [group, version, rest] = ['', parts[1], parts.slice(2)];
    else if (parts[0] === 'apis' && parts[1] && parts[2])
      [group, version, rest] = [parts[1], parts[2], parts.slice(3)];
    else if (parts[0] === 'apis' && parts[1]) {
      const g = groupList(resources).groups.find((x) => x.name === parts[1]);
      if (!g) throw new KubeStatus(404, 'NotFound', 'the server could not find the requested resource');
      return { body: { kind: 'APIGroup', apiVersion: 'v1', ...g } };
    } else throw new KubeStatus(404, 'NotFound', 'the server could not find the requested resource');
    const inGv = resources.filter((r) => r.group === group && r.version === version);
    if (inGv.length === 0)
      throw new KubeStatus(404, 'NotFound', 'the server could not find the requested resource');
    if (rest.length === 0) return { body: resourceList(resources, group, version) };
    let ns: string | undefined;
    if (
      rest[0] === 'namespaces' &&
      rest.length >= 3 &&
      inGv.some((r) => r.plural === rest[2] && r.namespaced)
    ) {
      ns = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, sub] = rest;
    const r = inGv.find((x) => x.plural === plural);
    if (!r) throw new KubeStatus(404, 'NotFound', 'the server could not find the requested resource');
    const verb =
      method === 'GET'
        ? name
          ? 'get'
          : q.get('watch') === 'true' || q.get('watch') === '1'
            ? 'watch'
            : 'list'
        : (({ POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[
            method
          ] ?? method);
    const info: KubeRequestInfo = {
      verb,
      group,
      resource: plural as string,
      namespace: ns,
      name,
      subresource: sub,
    };
    if (!r.review && options.forbid?.(info)) throw forbidden(info);
    const dryRun = q.get('dryRun') === 'All';
    const body: Obj = raw.length > 0 ? bodyOf(raw, String(req.headers['content-type'] ?? '')) : {};

    if (r.review) {
      if (method !== 'POST')
        throw new KubeStatus(405, 'MethodNotAllowed', 'the server does not allow this method');
      const a = body?.spec?.resourceAttributes ?? {};
      const asked: KubeRequestInfo = {
        verb: a.verb,
        group: a.group ?? '',
        resource: a.resource,
        namespace: a.namespace,
        name: a.name,
        subresource: a.subresource,
      };
      const allowed = !options.forbid?.(asked);
      return {
        status: 201,
        body: { ...body, status: { allowed, ...(allowed ? { reason: 'fake: allowed' } : {}) } },
      };
    }
    if (verb === 'watch')
      throw new KubeStatus(405, 'MethodNotAllowed', 'watch is not served by the fake API server');
    if (sub === 'log') return { body: podLog(ns, name as string, q), type: 'text/plain' };
    if (sub === 'scale') return scale(r, ns, name as string, method, body, dryRun);
    if (sub) throw new KubeStatus(404, 'NotFound', 'the server could not find the requested resource');
    switch (verb) {
      case 'list':
        return list(r, ns, q, req.headers.accept ?? '');
      case 'get': {
        const o = store.get(r, ns, name as string);
        if (!o) throw notFound(r, name as string);
        return { body: o };
      }
      case 'create':
        return { status: 201, body: write(r, ns, body, { dryRun, create: true }) };
      case 'update':
        return { body: write(r, ns, body, { dryRun, name }) };
      case 'patch': {
        const ct = String(req.headers['content-type'] ?? '');
        if (ct.startsWith('application/apply-patch')) {
          if (!q.get('fieldManager'))
            throw new KubeStatus(400, 'BadRequest', 'PATCH with apply requires a fieldManager');
          return {
            body: apply(r, ns, name as string, body, { dryRun, manager: q.get('fieldManager') as string }),
          };
        }
        const live = store.get(r, ns, name as string);
        if (!live) throw notFound(r, name as string);
        const patched = /strategic-merge-patch/.test(ct)
          ? strategicMergePatch(live, body)
          : mergePatch(live, body);
        return { body: write(r, ns, patched, { dryRun, name }) };
      }
      case 'delete':
        return { body: remove(r, ns, name as string, body, q, dryRun) };
    }
    throw new KubeStatus(
      405,
      'MethodNotAllowed',
      'the server does not allow this method on the requested resource',
    );
  }

  function bodyOf(raw: Buffer, contentType: string): Obj {
    const unsupported = (why: string) =>
      new KubeStatus(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format (${why}) - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/merge-patch+json, application/vnd.kubernetes.protobuf`,
      );
    if (/cbor/.test(contentType)) throw unsupported('cbor');
    if (!/protobuf/.test(contentType)) return parseBody(raw.toString('utf8'));
    try {
      return fromProtobuf(raw);
    } catch (err) {
      if (err instanceof UnsupportedProtobuf) throw unsupported(err.message);
      throw new KubeStatus(400, 'BadRequest', `cannot decode the protobuf body: ${(err as Error).message}`);
    }
  }

  function parseBody(raw: string): Obj {
    try {
      return parseYaml(raw) as Obj; // JSON is YAML
    } catch (err) {
      throw new KubeStatus(400, 'BadRequest', `error decoding request body: ${(err as Error).message}`);
    }
  }

  function forbidden(i: KubeRequestInfo): KubeStatus {
    const what = i.subresource ? `${i.resource}/${i.subresource}` : i.resource;
    return new KubeStatus(
      403,
      'Forbidden',
      `${i.resource}${i.name ? ` "${i.name}"` : ''} is forbidden: User "tester" cannot ${i.verb} resource "${what}" in API group "${i.group}"${i.namespace ? ` in the namespace "${i.namespace}"` : ''}`,
      { name: i.name, group: i.group, kind: i.resource },
    );
  }

  function list(r: KubeResource, ns: string | undefined, q: URLSearchParams, accept: string) {
    const labels = labelSelector(q.get('labelSelector'));
    const fields = fieldSelector(q.get('fieldSelector'));
    const all = store.list(r, ns).filter((o) => labels((k) => o.metadata.labels?.[k]) && fields(o));
    let start = 0;
    const cont = q.get('continue');
    if (cont) {
      try {
        start = JSON.parse(Buffer.from(cont, 'base64url').toString()).start;
      } catch {
        throw new KubeStatus(400, 'BadRequest', 'continue key is not valid');
      }
    }
    const limit = Number(q.get('limit') ?? 0);
    const end = limit > 0 ? start + limit : all.length;
    const items = all.slice(start, end);
    const meta: Obj = { resourceVersion: store.version };
    if (end < all.length) {
      meta.continue = Buffer.from(JSON.stringify({ start: end })).toString('base64url');
      meta.remainingItemCount = all.length - end;
    }
    if (/as=Table/.test(accept)) return { body: toTable(r, items, meta), type: 'application/json' };
    return { body: { kind: `${r.kind}List`, apiVersion: apiVersionOf(r), metadata: meta, items } };
  }

  function requireNamespace(r: KubeResource, ns: string | undefined) {
    if (!r.namespaced || !ns) return;
    const nsr = resources.find((x) => x.kind === 'Namespace') as KubeResource;
    if (!store.get(nsr, undefined, ns)) throw notFound(nsr, ns);
  }

  function validate(r: KubeResource, obj: Obj) {
    const causes: Obj[] = [];
    if (!obj?.metadata?.name)
      causes.push({
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      });
    const replicas = obj?.spec?.replicas;
    if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0))
      causes.push({
        reason: 'FieldValueInvalid',
        message: `Invalid value: ${JSON.stringify(replicas)}: must be a non-negative integer`,
        field: 'spec.replicas',
      });
    if (obj?.kind === 'Pod' && !(obj.spec?.containers?.length > 0))
      causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' });
    if (causes.length)
      throw new KubeStatus(
        422,
        'Invalid',
        `${r.kind} "${obj?.metadata?.name ?? ''}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
        { name: obj?.metadata?.name, group: r.group, kind: r.kind, causes },
      );
  }

  function settle(r: KubeResource, o: Obj) {
    if (
      options.controllers === false ||
      !['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(r.kind)
    )
      return;
    const n = o.spec?.replicas ?? 1;
    o.status = {
      ...(o.status ?? {}),
      observedGeneration: o.metadata.generation,
      replicas: n,
      updatedReplicas: n,
      readyReplicas: n,
      availableReplicas: n,
    };
  }

  function write(
    r: KubeResource,
    ns: string | undefined,
    obj: Obj,
    o: { dryRun: boolean; create?: boolean; name?: string },
  ) {
    const name = obj?.metadata?.name ?? o.name;
    validate(r, { ...obj, metadata: { ...obj?.metadata, name } });
    requireNamespace(r, ns);
    const prev = store.get(r, ns, name);
    if (o.create && prev)
      throw new KubeStatus(409, 'AlreadyExists', `${r.plural} "${name}" already exists`, {
        name,
        group: r.group,
        kind: r.plural,
      });
    if (!o.create && !prev) throw notFound(r, name);
    const sentRv = obj.metadata?.resourceVersion;
    if (prev && sentRv && sentRv !== prev.metadata.resourceVersion) throw conflict(r, name);
    const next = store.prepare(r, { ...obj, metadata: { ...obj.metadata, name } }, ns, prev);
    settle(r, next);
    return o.dryRun ? next : commit(r, next);
  }

  function conflict(r: KubeResource, name: string): KubeStatus {
    return new KubeStatus(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${r.group ? `${r.plural}.${r.group}` : r.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name, group: r.group, kind: r.plural },
    );
  }

  function apply(
    r: KubeResource,
    ns: string | undefined,
    name: string,
    body: Obj,
    o: { dryRun: boolean; manager: string },
  ) {
    if (body?.kind !== r.kind || body?.apiVersion !== apiVersionOf(r))
      throw new KubeStatus(
        400,
        'BadRequest',
        `the kind or apiVersion of the body (${body?.apiVersion} ${body?.kind}) does not match the URL`,
      );
    if (body.metadata?.name !== name)
      throw new KubeStatus(400, 'BadRequest', 'the name of the object does not match the name on the URL');
    validate(r, body);
    requireNamespace(r, ns);
    const prev = store.get(r, ns, name);
    const sentRv = body.metadata?.resourceVersion;
    if (prev && sentRv && sentRv !== prev.metadata.resourceVersion) throw conflict(r, name);
    const { status: _s, ...live } = prev ?? {};
    const merged = mergePatch(live, body);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    merged.metadata.managedFields = [
      ...(prev?.metadata.managedFields ?? []).filter((f: Obj) => f.manager !== o.manager),
      {
        manager: o.manager,
        operation: 'Apply',
        apiVersion: apiVersionOf(r),
        time: now,
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:metadata': {} },
      },
    ];
    const next = store.prepare(r, merged, ns, prev);
    if (prev?.status) next.status = prev.status;
    settle(r, next);
    return o.dryRun ? next : commit(r, next);
  }

  function remove(
    r: KubeResource,
    ns: string | undefined,
    name: string,
    body: Obj | undefined,
    q: URLSearchParams,
    dryRun: boolean,
  ) {
    const o = store.get(r, ns, name);
    if (!o) throw notFound(r, name);
    const policy = q.get('propagationPolicy') ?? body?.propagationPolicy ?? 'Background';
    if (dryRun || body?.dryRun?.includes?.('All')) return o;
    const gone = (obj: Obj) => {
      const res = resources.find(
        (x) => apiVersionOf(x) === obj.apiVersion && x.kind === obj.kind,
      ) as KubeResource;
      store.remove(res, obj.metadata.namespace, obj.metadata.name);
      for (const d of store.dependents(obj.metadata.uid)) {
        if (policy === 'Orphan') {
          d.metadata.ownerReferences = d.metadata.ownerReferences.filter(
            (x: Obj) => x.uid !== obj.metadata.uid,
          );
          if (d.metadata.ownerReferences.length === 0) delete d.metadata.ownerReferences;
        } else gone(d);
      }
    };
    gone(o);
    return o;
  }

  function scale(
    r: KubeResource,
    ns: string | undefined,
    name: string,
    method: string,
    body: Obj | undefined,
    dryRun: boolean,
  ) {
    if (!r.sub?.includes('scale'))
      throw new KubeStatus(404, 'NotFound', 'the server could not find the requested resource');
    const o = store.get(r, ns, name);
    if (!o) throw notFound(r, name);
    const view = (x: Obj) => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name,
        namespace: ns,
        uid: x.metadata.uid,
        resourceVersion: x.metadata.resourceVersion,
        creationTimestamp: x.metadata.creationTimestamp,
      },
      spec: { replicas: x.spec?.replicas ?? 1 },
      status: { replicas: x.status?.replicas ?? 0, selector: labelString(x.spec?.selector?.matchLabels) },
    });
    if (method === 'GET') return { body: view(o) };
    const replicas = body?.spec?.replicas;
    if (body?.metadata?.resourceVersion && body.metadata.resourceVersion !== o.metadata.resourceVersion)
      throw conflict(r, name);
    const next = write(r, ns, { ...o, spec: { ...o.spec, replicas } }, { dryRun, name });
    return { body: view(next) };
  }

  function podLog(ns: string | undefined, pod: string, q: URLSearchParams): string {
    const podR = resources.find((x) => x.kind === 'Pod') as KubeResource;
    const o = store.get(podR, ns, pod);
    if (!o) throw notFound(podR, pod);
    const containers: string[] = (o.spec?.containers ?? []).map((c: Obj) => c.name);
    const container = q.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container)
      throw new KubeStatus(
        400,
        'BadRequest',
        `a container name must be specified for pod ${pod}, choose one of: [${containers.join(' ')}]`,
      );
    if (!containers.includes(container))
      throw new KubeStatus(400, 'BadRequest', `container ${container} is not valid for pod ${pod}`);
    const previous = q.get('previous') === 'true';
    const key = `${ns}/${pod}/${container}${previous ? '/previous' : ''}`;
    let lines = logs.get(key);
    if (!lines) {
      if (previous)
        throw new KubeStatus(
          400,
          'BadRequest',
          `previous terminated container "${container}" in pod "${pod}" not found`,
        );
      lines = [];
    }
    const since = Number(q.get('sinceSeconds') ?? 0);
    if (since > 0) lines = lines.filter((l) => Date.parse(l.time) >= Date.now() - since * 1000);
    const tail = Number(q.get('tailLines') ?? -1);
    if (tail >= 0) lines = lines.slice(Math.max(0, lines.length - tail));
    const ts = q.get('timestamps') === 'true';
    return lines.map((l) => `${ts ? `${l.time} ` : ''}${l.text}\n`).join('');
  }

  const server: Server = options.tls
    ? createHttps({ cert: FAKE_KUBE_CERT, key: FAKE_KUBE_KEY }, handler)
    : createHttp(handler);
  server.on('upgrade', exec.upgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  if (options.tls) fake.ca = FAKE_KUBE_CERT;
  return fake;
}

function labelString(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
