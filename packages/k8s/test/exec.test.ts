import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { kubeBinaries, RESOURCES } from '@infra-mcp/testing/kube';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../src/client.js';
import { execInPod } from '../src/exec-stream.js';
import { argvSecrets } from '../src/tools/exec.js';
import { type Cluster, cluster, dir } from './cluster.js';

const run = promisify(execFile);
let c: Cluster;
afterEach(() => c?.close());

const execRequests = () => c.fake.requests.filter((r) => /\/exec\?/.test(r.url));

/** Dry run, then the approved call with its token. */
async function approved(args: Record<string, unknown>) {
  const dry = await c.t.call('k8s_exec', args);
  expect(dry.isError, dry.text).toBe(false);
  return { dry, done: await c.t.call('k8s_exec', { ...args, approval: dry.structured.approval }) };
}

/** The real kubectl against the same fake: its stdout, stderr and exit code. */
async function kubectl(...args: string[]) {
  try {
    const r = await run(kubeBinaries().kubectl, [
      '--kubeconfig',
      c.kubeconfig,
      '--cache-dir',
      `${dir}/cache`,
      ...args,
    ]);
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const enabled = () => cluster({ plugin: { execContexts: ['fake'] } });

describe('k8s_exec', () => {
  it('is off by default: the error names the config key that enables it, and nothing reaches the cluster', async () => {
    c = await cluster();
    const r = await c.t.call('k8s_exec', { pod: 'web-7d4-a', command: ['echo', 'hi'] });
    expect(r.errorCode).toBe('not_configured');
    expect(r.text).toContain('plugins.k8s.execContexts');
    expect(r.text).toContain('execContexts: ["fake"]');
    expect(execRequests()).toEqual([]);
    expect((await c.t.call('k8s_contexts', {})).structured).toMatchObject({
      exec: false,
      revealSecrets: false,
    });
  });

  it('runs on an enabled context after a preview of pod, container and argv; refused on a read-only one', async () => {
    c = await cluster({
      contexts: ['dev', 'prod'],
      plugin: { execContexts: ['*'], readOnlyContexts: ['prod'] },
    });
    // the container gets the argv exactly as given, no shell in between
    c.fake.onExec((req) => ({ stdout: `${JSON.stringify(req.command)}\n` }));
    const args = { instance: 'dev', pod: 'web-7d4-a', command: ['sh', '-c', 'echo hi'] };
    const { dry, done } = await approved(args);
    expect(dry.structured.preview).toEqual({
      pod: 'shop/web-7d4-a',
      container: 'main',
      command: ['sh', '-c', 'echo hi'],
      timeoutSeconds: 30,
    });
    expect(dry.text).toContain('argv:      ["sh","-c","echo hi"]');
    expect(execRequests()).toHaveLength(1); // the approved call only
    expect(done.structured.result).toMatchObject({ exitCode: 0, stdoutBytes: 22, timedOut: false });
    expect(done.text).toBe('exit code 0 (stdout 22B, stderr 0B)\n--- stdout\n["sh","-c","echo hi"]');
    const prod = await c.t.call('k8s_exec', { ...args, instance: 'prod' });
    expect(prod.errorCode).toBe('denied_by_policy');
    expect(execRequests()).toHaveLength(1);
  });

  it('gives the real kubectl exec the same output and exit code as the plugin', async () => {
    c = await enabled();
    c.fake.onExec((req) =>
      req.command[0] === 'migrate'
        ? { stdout: 'step 1\nstep 2\n', stderr: 'error: table exists\n', exitCode: 3 }
        : undefined,
    );
    for (const [command, code] of [
      [['echo', 'hi'], 0],
      [['cat', '/etc/hostname'], 0],
      [['migrate', '--up'], 3],
    ] as const) {
      const { done } = await approved({ pod: 'web-7d4-a', command });
      const k = await kubectl('exec', 'web-7d4-a', '--', ...command);
      expect(k.code).toBe(code);
      expect(done.structured.result.exitCode).toBe(code);
      const stdout = done.text.split('--- stdout\n')[1]?.split('\n--- stderr')[0] ?? '';
      expect(`${stdout}\n`).toBe(k.stdout);
      if (code !== 0) {
        expect(k.stderr).toContain('error: table exists\ncommand terminated with exit code 3');
        expect(done.text).toMatch(/^exit code 3 \(stdout 14B, stderr 20B\)/);
        expect(done.text).toContain('--- stderr\nerror: table exists');
      }
    }
  });

  it('records argv, exit code and byte counts in the audit record, credential-looking values masked', async () => {
    c = await enabled();
    const command = ['sh', '-c', 'PGPASSWORD=pa55word-xyz psql --token=tok-abc-123 -c "select 1"'];
    const { dry, done } = await approved({ pod: 'web-7d4-a', command });
    expect(dry.text).not.toContain('pa55word-xyz');
    expect(dry.text).toContain('PGPASSWORD=[REDACTED]');
    expect(done.structured.result.exitCode).toBe(127);
    const outcome = c.t.audit.records.at(-1)!;
    expect(outcome).toMatchObject({
      tool: 'k8s_exec',
      phase: 'outcome',
      details: {
        pod: 'shop/web-7d4-a',
        container: 'main',
        exitCode: 127,
        stdoutBytes: 0,
        stderrBytes: expect.any(Number),
        argv: ['sh', '-c', 'PGPASSWORD=[REDACTED] psql --token=[REDACTED] -c "select 1"'],
      },
    });
    const audit = JSON.stringify(c.t.audit.records);
    expect(audit).not.toContain('pa55word-xyz');
    expect(audit).not.toContain('tok-abc-123');
    expect(argvSecrets(['mysql', '--password', 'a b c', '-u', 'root'])).toEqual(['a', 'a b c']);
  });

  it('closes the stream at the timeout and answers what it read', async () => {
    c = await enabled();
    let closed = false;
    c.fake.onExec(async (req, io) => {
      if (req.command[0] !== 'tail') return undefined;
      io.stdout('line 1\n');
      await new Promise((resolve) => io.signal.addEventListener('abort', resolve));
      closed = true;
      return {};
    });
    const { done } = await approved({ pod: 'web-7d4-a', command: ['tail', '-f', '/log'], timeoutSeconds: 1 });
    expect(done.structured.result).toMatchObject({ timedOut: true, stdoutBytes: 7 });
    expect(done.structured.result.exitCode).toBeUndefined();
    expect(done.text).toContain('timed out after 1 s: the stream was closed');
    expect(done.text).toContain('--- stdout\nline 1');
    await expect.poll(() => closed).toBe(true);
    const over = await c.t.call('k8s_exec', { pod: 'web-7d4-a', command: ['true'], timeoutSeconds: 31 });
    expect(over.errorCode).toBe('invalid_arguments');
    expect(over.text).toContain('plugins.k8s.execTimeoutSeconds');
  });

  it('caps the output: head and tail kept within the budget, the sizes as written', async () => {
    c = await cluster({ plugin: { execContexts: ['fake'], execMaxOutputBytes: 65_536 } });
    const big = `BEGIN\n${'x'.repeat(199_990)}\nEND`;
    c.fake.onExec((req) => (req.command[0] === 'dump' ? { stdout: big, stderr: 'warn\n' } : undefined));
    const { done } = await approved({ pod: 'web-7d4-a', command: ['dump'] });
    expect(done.structured.result).toMatchObject({ stdoutBytes: big.length, stderrBytes: 5, cut: true });
    expect(done.text).toMatch(/--- stdout\nBEGIN\nx+\n… \[\d+ bytes cut: raise maxBytes/);
    expect(done.text).toMatch(/x+\nEND\n--- stderr\nwarn$/);
    expect(JSON.stringify(done.raw).length).toBeLessThan(16_384 + 2_000);
  });

  it('a pod or container that does not exist, or a pod not running: clear errors, nothing run', async () => {
    c = await enabled();
    const pod = await c.t.call('k8s_exec', { pod: 'nope', command: ['echo'] });
    expect(pod.errorCode).toBe('not_found');
    expect(pod.text).toContain('pods "nope" not found');
    const container = await c.t.call('k8s_exec', { pod: 'web-7d4-a', container: 'side', command: ['echo'] });
    expect(container.errorCode).toBe('not_found');
    expect(container.text).toContain('has no container "side"; its containers: main');
    const pending = await c.t.call('k8s_exec', { pod: 'db-0', command: ['echo'] });
    expect(pending.errorCode).toBe('invalid');
    expect(pending.text).toContain('pod shop/db-0 is Pending');
    expect(execRequests()).toEqual([]);
  });

  it('reports the API server refusing the exec stream (403 on pods/exec) with its message', async () => {
    c = await cluster({
      plugin: { execContexts: ['fake'] },
      fake: { forbid: (r) => r.subresource === 'exec' },
    });
    const dry = await c.t.call('k8s_exec', { pod: 'web-7d4-a', command: ['echo', 'x'] });
    const r = await c.t.call('k8s_exec', {
      pod: 'web-7d4-a',
      command: ['echo', 'x'],
      approval: dry.structured.approval,
    });
    expect(r.errorCode).toBe('forbidden');
    expect(r.text).toContain('cannot create resource "pods/exec"');
    const k = await kubectl('exec', 'web-7d4-a', '--', 'echo', 'x');
    expect(k.stderr).toContain('cannot create resource "pods/exec"');
  });

  it('an exec stream that cannot connect is a clear error, not an empty answer', async () => {
    c = await enabled();
    const kubeconfig = join(dir, 'gone.yaml');
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    writeFileSync(kubeconfig, c.fake.kubeconfig().replace(c.fake.url, `https://127.0.0.1:${port}`));
    const client = await KubeClient.create({ kubeconfig, timeoutMs: 5000 } as never, {
      secret: () => {},
      redact: (s) => s,
    });
    const spec = {
      namespace: 'shop',
      pod: 'web-7d4-a',
      container: 'main',
      command: ['echo'],
      timeoutMs: 5000,
      maxOutputBytes: 1024,
      signal: new AbortController().signal,
    };
    await expect(execInPod(client, spec)).rejects.toMatchObject({
      code: 'backend_unreachable',
      message: expect.stringContaining('cannot open the exec stream to pod shop/web-7d4-a'),
    });
  });

  it('refuses an approval once the pod was replaced (another uid)', async () => {
    c = await enabled();
    const args = { pod: 'web-7d4-a', command: ['echo', 'x'] };
    const dry = await c.t.call('k8s_exec', args);
    const live = c.fake.get('v1', 'Pod', 'web-7d4-a', 'shop')!;
    c.fake.store.remove(RESOURCES.find((r) => r.kind === 'Pod')!, 'shop', 'web-7d4-a');
    c.fake.add({ ...live, metadata: { ...live.metadata, uid: undefined, resourceVersion: undefined } });
    const stale = await c.t.call('k8s_exec', { ...args, approval: dry.structured.approval });
    expect(stale.errorCode).toBe('stale_plan');
    expect(execRequests()).toEqual([]);
  });
});
