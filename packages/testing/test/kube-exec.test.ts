import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type FakeKube, kubeBinaries, startFakeKube } from '../src/kube.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'fake-kube-exec-'));

describe('pods/exec of the fake API server', () => {
  let fake: FakeKube;
  let kubeconfig: string;
  beforeAll(async () => {
    fake = await startFakeKube({ tls: true, token: 'exec-token' });
    fake.add(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'shop' },
        spec: { containers: [{ name: 'main', image: 'nginx', env: [{ name: 'MODE', value: 'prod' }] }] },
        status: { phase: 'Running' },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'job-1', namespace: 'shop' },
        spec: { containers: [{ name: 'main', image: 'busybox' }] },
        status: { phase: 'Succeeded' },
      },
    );
    kubeconfig = join(dir, 'kubeconfig.json');
    writeFileSync(kubeconfig, fake.kubeconfig({ namespace: 'shop' }));
  });
  afterAll(() => fake.close());

  const kubectl = async (...args: string[]) => {
    try {
      const r = await run(kubeBinaries().kubectl, ['--kubeconfig', kubeconfig, ...args]);
      return { stdout: r.stdout, stderr: r.stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout: string; stderr: string; code: number };
      return { stdout: e.stdout, stderr: e.stderr, code: e.code };
    }
  };

  it('the real kubectl runs the built-ins and the handlers, with their exit codes', async () => {
    const env = await kubectl('exec', 'web', '--', 'env');
    expect(env.stderr).toBe('');
    expect(env).toMatchObject({
      stdout: 'HOSTNAME=web\nMODE=prod\n',
      code: 0,
    });
    expect((await kubectl('exec', 'web', '--', 'false')).code).toBe(1);
    fake.onExec((req, io) => {
      if (req.command[0] !== 'count') return undefined;
      for (let i = 1; i <= 3; i++) io.stdout(`${i}\n`);
      return { stderr: 'done\n', exitCode: 4 };
    });
    const r = await kubectl('exec', 'web', '-c', 'main', '--', 'count');
    expect(r).toMatchObject({ stdout: '1\n2\n3\n', code: 4 });
    expect(r.stderr).toBe('done\ncommand terminated with exit code 4\n');
    expect((await kubectl('exec', 'job-1', '--', 'echo')).stderr).toContain(
      'cannot exec into a container in a completed pod; current phase is Succeeded',
    );
  });

  it('speaks v4.channel.k8s.io to a client that offers only it, and refuses other protocols with a Status', async () => {
    const url = `${fake.url.replace(/^http/, 'ws')}/api/v1/namespaces/shop/pods/web/exec?command=echo&command=v4&stdout=1&stderr=1`;
    const headers = { authorization: 'Bearer exec-token' };
    const tls = { ca: fake.ca };
    const frames = await new Promise<Buffer[]>((resolve, reject) => {
      const ws = new WebSocket(url, ['v4.channel.k8s.io'], { headers, ...tls });
      const got: Buffer[] = [];
      ws.on('message', (d: Buffer) => got.push(d));
      ws.on('close', () => resolve(got));
      ws.on('error', reject);
      ws.on('open', () => expect(ws.protocol).toBe('v4.channel.k8s.io'));
    });
    expect(frames.map((f) => [f[0], f.subarray(1).toString()])).toEqual([
      [1, 'v4\n'],
      [3, JSON.stringify({ metadata: {}, status: 'Success' })],
    ]);
    const refused = await new Promise<{ status?: number; body: string }>((resolve) => {
      const ws = new WebSocket(url, ['channel.k8s.io'], { headers, ...tls });
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
    });
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });
});
