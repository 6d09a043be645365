/**
 * The pods/exec subresource of the fake API server: the WebSocket upgrade on
 * `/api/v1/namespaces/{ns}/pods/{name}/exec?command=..&container=..&stdout=1&stderr=1` and the
 * remote-command channel protocol (`v5.channel.k8s.io`, `v4.channel.k8s.io`): each binary message
 * starts with its channel, 1 stdout, 2 stderr, 3 the final metav1.Status (exit code in
 * `details.causes`). Commands run through handlers the test registers (`fake.onExec`), then a few
 * built-ins (`echo`, `env`, `cat /etc/hostname`, `hostname`, `true`, `false`).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { KubeStatus, type Obj } from './store.js';

export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  /** The pod as stored. */
  object: Obj;
  tty: boolean;
}

/** What a handler writes while it runs; `signal` aborts when the client goes away. */
export interface ExecIO {
  stdout(chunk: string | Buffer): void;
  stderr(chunk: string | Buffer): void;
  signal: AbortSignal;
}

export interface ExecOutcome {
  stdout?: string | Buffer;
  stderr?: string | Buffer;
  /** Default 0. */
  exitCode?: number;
}

/** Runs a command, or returns undefined to leave it to the next handler (and the built-ins). */
export type ExecHandler = (
  req: ExecRequest,
  io: ExecIO,
) => ExecOutcome | undefined | Promise<ExecOutcome | undefined>;

const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const EXEC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/;

export interface ExecServerOptions {
  token?: string;
  forbid?: (req: {
    verb: string;
    group: string;
    resource: string;
    namespace?: string;
    name?: string;
    subresource?: string;
  }) => boolean;
  pod(namespace: string, name: string): Obj | undefined;
  record(method: string, url: string): void;
}

/** Handlers and the `upgrade` listener of the server. */
export function execServer(o: ExecServerOptions) {
  const handlers: ExecHandler[] = [];
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (offered) => PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });

  function check(req: IncomingMessage): ExecRequest {
    const url = new URL(req.url ?? '/', 'http://fake');
    const m = EXEC_PATH.exec(url.pathname);
    if (!m) throw new KubeStatus(404, 'NotFound', 'the server could not find the requested resource');
    if (o.token && req.headers.authorization !== `Bearer ${o.token}`)
      throw new KubeStatus(401, 'Unauthorized', 'Unauthorized');
    const [namespace, pod] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
    const info = { verb: 'create', group: '', resource: 'pods', namespace, name: pod, subresource: 'exec' };
    if (o.forbid?.(info))
      throw new KubeStatus(
        403,
        'Forbidden',
        `pods "${pod}" is forbidden: User "tester" cannot create resource "pods/exec" in API group "" in the namespace "${namespace}"`,
        { name: pod, kind: 'pods' },
      );
    const object = o.pod(namespace, pod);
    if (!object)
      throw new KubeStatus(404, 'NotFound', `pods "${pod}" not found`, { name: pod, kind: 'pods' });
    const q = url.searchParams;
    const command = q.getAll('command');
    if (command.length === 0) throw new KubeStatus(400, 'BadRequest', 'you must specify at least 1 command');
    const containers: string[] = (object.spec?.containers ?? []).map((c: Obj) => c.name);
    const container = q.get('container') || (containers.length === 1 ? containers[0] : undefined);
    if (!container)
      throw new KubeStatus(
        400,
        'BadRequest',
        `a container name must be specified for pod ${pod}, choose one of: [${containers.join(' ')}]`,
      );
    if (!containers.includes(container))
      throw new KubeStatus(400, 'BadRequest', `container ${container} is not valid for pod ${pod}`);
    const phase = object.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed')
      throw new KubeStatus(
        400,
        'BadRequest',
        `cannot exec into a container in a completed pod; current phase is ${phase}`,
      );
    return { namespace, pod, container, command, object, tty: /^(1|true)$/.test(q.get('tty') ?? '') };
  }

  function refuse(socket: Duplex, e: KubeStatus) {
    const body = JSON.stringify(e.body());
    socket.end(
      `HTTP/1.1 ${e.code} ${e.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }

  async function run(ws: WebSocket, req: ExecRequest) {
    const closed = new AbortController();
    ws.on('close', () => closed.abort());
    const send = (channel: number, chunk: string | Buffer) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (data.length > 0 && ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(channel), data]));
    };
    const io: ExecIO = {
      stdout: (c) => send(1, c),
      stderr: (c) => send(2, c),
      signal: closed.signal,
    };
    let outcome: ExecOutcome | undefined;
    try {
      for (const h of [...handlers].reverse()) {
        outcome = await h(req, io);
        if (outcome) break;
      }
      outcome ??= builtin(req);
    } catch (err) {
      outcome = { stderr: `fake exec handler failed: ${(err as Error).message}\n`, exitCode: 1 };
    }
    if (ws.readyState !== ws.OPEN) return;
    if (outcome.stdout) send(1, outcome.stdout);
    if (outcome.stderr) send(2, outcome.stderr);
    const code = outcome.exitCode ?? 0;
    const status =
      code === 0
        ? { metadata: {}, status: 'Success' }
        : {
            metadata: {},
            status: 'Failure',
            message: `command terminated with non-zero exit code: error executing command [${req.command.join(' ')}], exit code ${code}`,
            reason: 'NonZeroExitCode',
            details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
          };
    ws.send(Buffer.concat([Buffer.of(3), Buffer.from(JSON.stringify(status))]), () => ws.close(1000));
  }

  return {
    onExec(handler: ExecHandler): void {
      handlers.push(handler);
    },
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
      o.record(req.method ?? 'GET', req.url ?? '/');
      let exec: ExecRequest;
      try {
        exec = check(req);
      } catch (err) {
        refuse(socket, err instanceof KubeStatus ? err : new KubeStatus(500, 'InternalError', String(err)));
        return;
      }
      const offered = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((s) => s.trim());
      if (!PROTOCOLS.some((p) => offered.includes(p))) {
        refuse(
          socket,
          new KubeStatus(
            400,
            'BadRequest',
            `unable to upgrade: the fake API server speaks ${PROTOCOLS.join(', ')}; offered: ${offered.join(', ') || 'none'}`,
          ),
        );
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => void run(ws, exec));
    },
  };
}

/** Commands every fake pod knows. */
function builtin(req: ExecRequest): ExecOutcome {
  const [cmd, ...args] = req.command;
  const c = (req.object.spec?.containers ?? []).find((x: Obj) => x.name === req.container) ?? {};
  switch (cmd) {
    case 'echo':
      return { stdout: `${args.join(' ')}\n` };
    case 'hostname':
      return { stdout: `${req.pod}\n` };
    case 'cat':
      if (args.length === 1 && args[0] === '/etc/hostname') return { stdout: `${req.pod}\n` };
      return { stderr: `cat: ${args.join(' ')}: No such file or directory\n`, exitCode: 1 };
    case 'env':
      return {
        stdout: [
          `HOSTNAME=${req.pod}`,
          ...(c.env ?? [])
            .filter((e: Obj) => typeof e.value === 'string')
            .map((e: Obj) => `${e.name}=${e.value}`),
          '',
        ].join('\n'),
      };
    case 'true':
      return {};
    case 'false':
      return { exitCode: 1 };
    default:
      return {
        stderr: `fake exec: ${cmd}: command not found (register a handler with fake.onExec)\n`,
        exitCode: 127,
      };
  }
}
