/**
 * The terraform tools through MCP, with a stand-in terraform answering with REAL `show -json`
 * documents made by Terraform (vendored from hashicorp/terraform-json).
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { connect, type TestClient } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionOf, terraform } from '../src/index.js';
import { generatePlan } from './generate-plan.js';
import { FIXTURES, STANDIN, workspace } from './terraform-workspace.js';

const ws = workspace();
let t: TestClient;

const plans = readdirSync(FIXTURES).filter((d) => {
  try {
    JSON.parse(readFileSync(join(FIXTURES, d, 'plan.json'), 'utf8'));
    return true;
  } catch {
    return false;
  }
});

beforeAll(async () => {
  t = await connect([terraform({ binary: STANDIN, root: ws.root, planDir: ws.planDir, timeoutMs: 5000 })]);
});
afterAll(async () => t?.close());

describe('terraform_plan: summaries agree with the real plans', () => {
  it('covers the vendored fixtures', () => {
    expect(plans.length).toBeGreaterThanOrEqual(15);
  });
  it.each(plans)('%s: each address with its action, counts, nothing sensitive', async (fixture) => {
    const dir = ws.dir(`p-${fixture}`, { plan: fixture });
    const raw = JSON.parse(readFileSync(join(FIXTURES, fixture, 'plan.json'), 'utf8'));
    const r = await t.call('terraform_plan', { dir });
    expect(r.isError, r.text).toBe(false);
    const expected = (raw.resource_changes ?? []) as { address: string; change: { actions: string[] } }[];
    const shown = new Map<string, string>(
      r.structured.resources.map((x: { address: string; action: string }) => [x.address, x.action]),
    );
    let add = 0;
    let destroy = 0;
    let replace = 0;
    let change = 0;
    for (const rc of expected) {
      const a = rc.change.actions;
      const kind =
        a.length === 2 && a.includes('delete') && a.includes('create')
          ? 'replace'
          : a.length === 1
            ? a[0]
            : '?';
      if (kind === 'create') add++;
      if (kind === 'delete') destroy++;
      if (kind === 'replace') replace++;
      if (kind === 'update') change++;
      if (kind !== 'no-op') expect(shown.get(rc.address), rc.address).toBe(kind);
    }
    expect(r.structured.counts).toMatchObject({ add, change, destroy, replace });
    expect(r.text).toContain(
      `${add} to add, ${change} to change, ${destroy} to destroy, ${replace} to replace`,
    );
    // sensitive values (after_sensitive / sensitive outputs): never in the answer
    const sensitive: unknown[] = [];
    const walk = (v: unknown, s: unknown) => {
      if (s === true) sensitive.push(v);
      else if (s && typeof s === 'object' && v && typeof v === 'object')
        for (const [k, m] of Object.entries(s)) walk((v as Record<string, unknown>)[k], m);
    };
    for (const rc of raw.resource_changes ?? []) walk(rc.change.after, rc.change.after_sensitive);
    for (const o of Object.values(raw.planned_values?.outputs ?? {}) as {
      sensitive?: boolean;
      value?: unknown;
    }[])
      if (o.sensitive) sensitive.push(o.value);
    let answer = `${JSON.stringify(r.structured)}\n${r.text}`;
    for (const rc of expected) answer = answer.split(rc.address).join('');
    for (const v of sensitive.filter((x) => typeof x === 'string'))
      expect(answer).not.toMatch(new RegExp(`\\b${v}\\b`));
  });

  it('the plan file of a read-only plan is deleted', async () => {
    const dir = ws.dir('p-clean', { plan: '110_basic' });
    await t.call('terraform_plan', { dir });
    expect(readdirSync(ws.planDir).filter((f) => f.endsWith('.tfplan'))).toEqual([]);
    const argv = ws.calls(dir).map((c) => c.argv);
    expect(argv.find((a) => a[0] === 'plan')).toEqual(
      expect.arrayContaining(['-input=false', '-detailed-exitcode']),
    );
  });

  it('a replace is one action, with its reason (action_reason fixture)', async () => {
    const r = await t.call('terraform_plan', { dir: ws.dir('p-reason', { plan: 'action_reason' }) });
    expect(r.structured.resources[0]).toMatchObject({ address: 'null_resource.example', action: 'replace' });
    expect(r.structured.destructive).toBe(true);
  });

  it('moved blocks show where a resource came from', async () => {
    const r = await t.call('terraform_plan', { dir: ws.dir('p-moved', { plan: 'moved_block' }) });
    expect(r.text).toMatch(/moved from/);
  });

  it('an invalid show -json is an error, never a summary', async () => {
    const r = await t.call('terraform_plan', { dir: ws.dir('p-invalid', { plan: 'invalid' }) });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/did not print valid JSON/);
  });
  it('actionOf maps terraform action lists', () => {
    expect(actionOf(['create', 'delete'])).toBe('replace');
    expect(actionOf(['delete', 'create'])).toBe('replace');
    expect(actionOf(['no-op'])).toBe('no-op');
  });
});

describe('terraform_apply: exactly the reviewed plan file', () => {
  it('dry run plans once; the approved call applies that file, with no second plan', async () => {
    const dir = ws.dir('a-ok', { plan: '110_basic', state: '110_sensitive_values' });
    const dry = await t.call('terraform_apply', { dir });
    expect(dry.isError, dry.text).toBe(false);
    expect(dry.structured).toMatchObject({ dryRun: true, summary: expect.stringMatching(/7 to add/) });
    const plansBefore = ws.calls(dir).filter((c) => c.argv[0] === 'plan').length;
    const done = await t.call('terraform_apply', { dir, approval: dry.structured.approval });
    expect(done.isError, done.text).toBe(false);
    const calls = ws.calls(dir);
    expect(calls.filter((c) => c.argv[0] === 'plan').length).toBe(plansBefore);
    const apply = calls.find((c) => c.argv[0] === 'apply')!;
    expect(apply.argv.at(-1)).toMatch(/\.tfplan$/);
    expect(apply.argv).not.toContain('-auto-approve');
    expect(ws.read(dir).applied).toEqual(['110_basic']);
    // the file is gone once used; the run is in the outcome record (the operations log)
    expect(readdirSync(ws.planDir).filter((f) => f.endsWith('.tfplan'))).toEqual([]);
    const outcome = t.audit.records.at(-1)!;
    expect(outcome).toMatchObject({ phase: 'outcome', outcome: 'ok' });
    expect(outcome.details).toMatchObject({ exitCode: 0, argv: expect.arrayContaining(['apply']) });
    // applying again with the spent token does nothing
    const again = await t.call('terraform_apply', { dir, approval: dry.structured.approval });
    expect(again.isError).toBe(true);
    expect(ws.read(dir).applied).toEqual(['110_basic']);
  });

  it('refuses when the state moved since the preview (nothing applied)', async () => {
    const dir = ws.dir('a-moved', { plan: '110_basic', serial: 4 });
    const dry = await t.call('terraform_apply', { dir });
    ws.set(dir, { plan: '110_basic', serial: 5 });
    const r = await t.call('terraform_apply', { dir, approval: dry.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect(r.text).toMatch(/state moved since the preview \(serial 4 -> 5\)/);
    expect(ws.calls(dir).some((c) => c.argv[0] === 'apply')).toBe(false);
  });

  it('refuses a plan file changed or removed since the preview', async () => {
    const dir = ws.dir('a-changed', { plan: '110_basic' });
    const dry = await t.call('terraform_apply', { dir });
    // the held plan: the first plan's file (testing's connect plans twice and drops the second)
    const file = ws
      .calls(dir)
      .find((c) => c.argv[0] === 'plan')!
      .argv.find((a) => a.startsWith('-out='))!
      .slice(5);
    writeFileSync(file, '{"standinPlan":"action_reason"}');
    const r = await t.call('terraform_apply', { dir, approval: dry.structured.approval });
    expect(r.errorCode).toBe('stale_plan');
    expect(r.text).toMatch(/plan file changed/);
    expect(ws.calls(dir).some((c) => c.argv[0] === 'apply')).toBe(false);
    // removed: refused the same way
    const dry2 = await t.call('terraform_apply', { dir });
    const file2 = ws
      .calls(dir)
      .filter((c) => c.argv[0] === 'plan')
      .at(-2)!
      .argv.find((a) => a.startsWith('-out='))!
      .slice(5);
    rmSync(file2);
    const r2 = await t.call('terraform_apply', { dir, approval: dry2.structured.approval });
    expect(r2.errorCode).toBe('stale_plan');
    expect(r2.text).toMatch(/plan file is gone/);
  });

  it('a token from another plan is refused, nothing executed', async () => {
    const a = ws.dir('a-one', { plan: '110_basic' });
    const b = ws.dir('a-two', { plan: 'deep_module' });
    const dry = await t.call('terraform_apply', { dir: a });
    const r = await t.call('terraform_apply', { dir: b, approval: dry.structured.approval });
    expect(r.isError).toBe(true);
    expect(ws.calls(a).some((c) => c.argv[0] === 'apply')).toBe(false);
    expect(ws.calls(b).some((c) => c.argv[0] === 'apply')).toBe(false);
  });

  it('a plan that deletes or replaces goes only through terraform_apply_destructive', async () => {
    const dir = ws.dir('a-destroy', { plan: 'action_reason' });
    const r = await t.call('terraform_apply', { dir });
    expect(r.errorCode).toBe('destructive_plan');
    expect(r.text).toMatch(/null_resource\.example/);
    const tools = await t.listTools();
    const destructive = tools.find((x: { name: string }) => x.name === 'terraform_apply_destructive');
    expect(destructive.annotations.destructiveHint).toBe(true);
    const write = tools.find((x: { name: string }) => x.name === 'terraform_apply');
    expect(write.annotations.destructiveHint).toBe(false);
    const dry = await t.call('terraform_apply_destructive', { dir });
    expect(dry.structured.summary).toMatch(/1 to replace/);
  });
});

describe('runner: failures, time, size, paths', () => {
  it('a non-zero exit brings its stderr, masked, to the model', async () => {
    process.env.TF_VAR_db_password = 'hunter2-very-secret';
    const t2 = await connect([terraform({ binary: STANDIN, root: ws.root, planDir: ws.planDir })]);
    const dir = ws.dir('f-fail', {
      plan: '110_basic',
      fail: { plan: 'Error: bad password hunter2-very-secret' },
    });
    const r = await t2.call('terraform_plan', { dir });
    expect(r.errorCode).toBe('command_failed');
    expect(r.text).toMatch(/exited 1:\nError: bad password/);
    expect(r.text).not.toContain('hunter2-very-secret');
    // the child got the allow-listed TF_VAR_ but nothing outside the list
    const env = ws.calls(dir)[0]!.env;
    expect(env.TF_VAR_db_password).toBe('hunter2-very-secret');
    expect(env.TF_IN_AUTOMATION).toBe('1');
    expect(
      Object.keys(env).every((k) => /^(PATH|HOME|TF_.*|AWS_.*|ARM_.*|GOOGLE_.*|KUBECONFIG)$/.test(k)),
    ).toBe(true);
    delete process.env.TF_VAR_db_password;
    await t2.close();
  });

  it('a slow run is killed at the timeout', async () => {
    const t2 = await connect([
      terraform({ binary: STANDIN, root: ws.root, planDir: ws.planDir, timeoutMs: 300 }),
    ]);
    const dir = ws.dir('f-slow', { plan: '110_basic', sleepMs: { plan: 20_000 } });
    const started = Date.now();
    const r = await t2.call('terraform_plan', { dir });
    expect(r.errorCode).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(5000);
    await t2.close();
  });

  it('huge output is capped, head and tail kept', async () => {
    const t2 = await connect([
      terraform({ binary: STANDIN, root: ws.root, planDir: ws.planDir, maxOutputBytes: 4096 }),
    ]);
    const dir = ws.dir('f-huge', {
      plan: '110_basic',
      hugeBytes: 2_000_000,
      fail: { plan: 'Error: at the end' },
    });
    const r = await t2.call('terraform_plan', { dir });
    expect(r.errorCode).toBe('command_failed');
    const outcome = t2.audit.records.at(-1)!;
    expect((outcome.details as { stdoutBytes: number }).stdoutBytes).toBeGreaterThan(1_900_000);
    expect(JSON.stringify(outcome.details).length).toBeLessThan(8192);
    await t2.close();
  });

  it('a missing binary names the config key', async () => {
    const t2 = await connect([terraform({ binary: '/nonexistent/tofu', root: ws.root })]);
    const r = await t2.call('terraform_validate', { dir: ws.dir('f-missing', {}) });
    expect(r.errorCode).toBe('binary_not_found');
    expect(r.text).toMatch(/plugins\.terraform\.binary/);
    await t2.close();
  });

  const escapes: [string, Record<string, unknown>][] = [
    ['terraform_validate', {}],
    ['terraform_fmt_check', {}],
    ['terraform_plan', {}],
    ['terraform_apply', {}],
    ['terraform_apply_destructive', {}],
    ['terraform_state_list', {}],
    ['terraform_output', {}],
  ];
  it.each(escapes)('%s refuses directories outside the root (.., absolute, symlink)', async (tool, extra) => {
    const outside = ws.dir('../', {}) && join(ws.root, '..');
    if (!existsSync(join(ws.root, 'link-out'))) symlinkSync('/etc', join(ws.root, 'link-out'));
    for (const dir of ['../', 'a/../../etc', '/etc', 'link-out', outside]) {
      const r = await t.call(tool, { dir, ...extra });
      expect(r.isError, `${tool} ${dir}`).toBe(true);
      expect(['denied', 'denied_by_policy']).toContain(r.errorCode);
    }
  });

  it('var files outside the root are refused before anything runs', async () => {
    const dir = ws.dir('f-var', { plan: '110_basic' });
    mkdirSync(join(ws.root, 'f-var', 'vars'), { recursive: true });
    const r = await t.call('terraform_plan', { dir, varFiles: ['../../../etc/passwd'] });
    expect(r.errorCode).toBe('denied');
    expect(ws.calls(dir)).toEqual([]);
  });
});

describe('other terraform tools', () => {
  it('validate, fmt_check, state_list, output (sensitive redacted)', async () => {
    const dir = ws.dir('o', { state: '110_sensitive_values', unformatted: ['main.tf'] });
    const v = await t.call('terraform_validate', { dir });
    expect(v.structured).toMatchObject({ valid: true, errors: 0 });
    expect(ws.calls(dir)[0]!.argv).toEqual(['init', '-backend=false', '-input=false', '-no-color']);
    const f = await t.call('terraform_fmt_check', { dir });
    expect(f.structured).toEqual({ formatted: false, files: ['main.tf'] });
    const s = await t.call('terraform_state_list', { dir, match: 'baz' });
    expect(s.structured.addresses).toEqual([
      'null_resource.baz[0]',
      'null_resource.baz[1]',
      'null_resource.baz[2]',
    ]);
    const o = await t.call('terraform_output', { dir });
    const foo = o.structured.outputs.find((x: { name: string }) => x.name === 'foo');
    expect(foo).toEqual({ name: 'foo', sensitive: true, value: '[REDACTED: sensitive output]' });
    expect(o.text).toMatch(/^foo = \[REDACTED/m);
    expect(o.text).toMatch(/string = foo/);
  });
});

describe('plans of every size', () => {
  it('a 500-resource plan pages within the budget with a cursor; the answer is a tenth of show -json', async () => {
    const gen = join(ws.root, '..', `gen-500-${Date.now()}`);
    mkdirSync(gen);
    const plan = generatePlan(500);
    writeFileSync(join(gen, 'plan.json'), JSON.stringify(plan));
    const dir = ws.dir('big', { plan: gen });
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await t.call('terraform_plan', { dir, ...(cursor ? { cursor } : {}) });
      expect(r.isError, r.text).toBe(false);
      expect(r.structured.counts).toEqual({
        add: 100,
        change: 100,
        destroy: 100,
        replace: 100,
        read: 0,
        noop: 100,
      });
      seen.push(...r.structured.resources.map((x: { address: string }) => x.address));
      cursor = r.structured.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(seen).toHaveLength(400); // no-ops are counted, not listed
    expect(new Set(seen).size).toBe(400);
    expect(pages).toBeGreaterThan(1);
    const whole = await t.call('terraform_plan', { dir, maxBytes: 1_048_576 });
    const bytes = JSON.stringify(whole.structured).length + whole.text.length;
    expect(bytes).toBeLessThanOrEqual(JSON.stringify(plan).length / 10);
    expect(`${JSON.stringify(whole.structured)}${whole.text}`).not.toMatch(/echo node|ami-0/);
  });

  it('an unused plan file is deleted when its approval expires', async () => {
    const t2 = await connect([terraform({ binary: STANDIN, root: ws.root, planDir: ws.planDir })], {
      approvals: { ttlSeconds: 1 },
    });
    const dir = ws.dir('expiry', { plan: '110_basic' });
    const dry = await t2.call('terraform_apply', { dir });
    const file = ws
      .calls(dir)
      .find((c) => c.argv[0] === 'plan')!
      .argv.find((a) => a.startsWith('-out='))!
      .slice(5);
    expect(existsSync(file)).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(existsSync(file)).toBe(false);
    const r = await t2.call('terraform_apply', { dir, approval: dry.structured.approval });
    expect(r.isError).toBe(true);
    expect(ws.calls(dir).some((c) => c.argv[0] === 'apply')).toBe(false);
    await t2.close();
  });
});
