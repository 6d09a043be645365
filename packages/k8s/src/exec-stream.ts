/**
 * A command in a container through the API's pods/exec subresource: a WebSocket opened by
 * `@kubernetes/client-node`'s Exec (channel protocol v5.channel.k8s.io, v4 as fallback), argv only,
 * closed at the timeout, stdout and stderr kept within a cap (head and tail).
 */
import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { OutputCapture, ToolError } from '@infra-mcp/core';
import type { KubeClient, Obj } from './client.js';

export interface ExecSpec {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  timeoutMs: number;
  maxOutputBytes: number;
  signal: AbortSignal;
}

export interface ExecOutcome {
  /** Undefined when the stream was closed before the command ended (timeout, cancellation). */
  exitCode?: number;
  timedOut: boolean;
  /** The Status message when the command could not run or failed without an exit code. */
  error?: string;
  stdout: OutputCapture;
  stderr: OutputCapture;
}

/** Exit code from the final metav1.Status of the error channel. */
function exitCodeOf(status: Obj): number | undefined {
  if (status.status === 'Success') return 0;
  if (status.reason !== 'NonZeroExitCode') return undefined;
  const cause = (status.details?.causes ?? []).find((c: Obj) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : undefined;
}

function sink(capture: OutputCapture): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      capture.push(chunk);
      done();
    },
  });
}

/** Channel protocols offered, newest first (what client-node and kubectl offer). */
const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];

export async function execInPod(client: KubeClient, spec: ExecSpec): Promise<ExecOutcome> {
  const [{ Exec }, { default: WebSocket }] = await Promise.all([
    import('@kubernetes/client-node'),
    import('ws'),
  ]);
  const kc = client.kubeConfig;
  const stdout = new OutputCapture(spec.maxOutputBytes);
  const stderr = new OutputCapture(spec.maxOutputBytes);
  return new Promise<ExecOutcome>((resolve, reject) => {
    let socket: InstanceType<typeof WebSocket> | undefined;
    let status: Obj | undefined;
    let timedOut = false;
    let settled = false;
    let open = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      spec.signal.removeEventListener('abort', cancel);
      if (err) return reject(err);
      const exitCode = status ? exitCodeOf(status) : undefined;
      resolve({
        exitCode,
        timedOut,
        ...(status && exitCode === undefined
          ? { error: client.scrub(String(status.message ?? status.reason ?? 'exec failed')) }
          : {}),
        stdout,
        stderr,
      });
    };
    const stop = () => {
      socket?.terminate();
      done();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, spec.timeoutMs);
    const cancel = () => stop();
    spec.signal.addEventListener('abort', cancel, { once: true });
    // Exec builds the request and demultiplexes the channels; the socket is ours, so a refused
    // upgrade's Status body (403, 404, 400) is read and reported, not just its status code
    const connect = async (
      path: string,
      _text: unknown,
      binary: (channel: number, data: Buffer) => boolean,
    ) => {
      const server = kc.getCurrentCluster()?.server ?? client.server;
      const opts: Obj = {};
      await kc.applyToHTTPSOptions(opts);
      return new Promise<InstanceType<typeof WebSocket>>((opened, failed) => {
        const ws = new WebSocket(server.replace(/^http/, 'ws').replace(/\/$/, '') + path, PROTOCOLS, opts);
        socket = ws;
        ws.on('unexpected-response', (_req, res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            done(client.statusError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
            ws.terminate();
          });
        });
        ws.on('open', () => {
          open = true;
          opened(ws);
        });
        ws.on('error', failed);
        ws.on('message', (data: Buffer) => {
          // 255 is v5's close signal of a channel: nothing to read, and client-node throws on it
          if (data.length === 0 || data[0] === 255) return;
          try {
            if (!binary(data[0]!, data.subarray(1))) ws.close();
          } catch (err) {
            done(
              new ToolError(
                'backend_error',
                `the exec stream sent what client-node cannot read: ${(err as Error).message}`,
                'retry; report it if it persists',
              ),
            );
            ws.terminate();
          }
        });
        // before it opened, a close follows an error that the rejection below reports
        ws.on('close', () => open && done());
      });
    };
    new Exec(kc, { connect } as never)
      .exec(
        spec.namespace,
        spec.pod,
        spec.container,
        spec.command,
        sink(stdout),
        sink(stderr),
        null,
        false,
        (s) => {
          status = s as Obj;
        },
      )
      .catch((err: Error) =>
        done(
          new ToolError(
            'backend_unreachable',
            `cannot open the exec stream to pod ${spec.namespace}/${spec.pod} (context "${client.context}"): ${client.scrub(err.message)}`,
            'check that the cluster is up and allows pods/exec (k8s_can_i verb=create resource=pods subresource=exec)',
          ),
        ),
      );
  });
}
