import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeBinaries } from '@infra-mcp/testing/kube';
import { describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { instancesFrom } from '../src/instances.js';
import { scanContexts } from '../src/kubeconfig.js';

const dir = mkdtempSync(join(tmpdir(), 'k8s-kubeconfig-'));

/** What a YAML parser reads (the first document, as client-go): the contexts and current context. */
function parsed(text: string) {
  const [doc] = [parseAllDocuments(text)].flat();
  const kc = doc?.toJS() ?? {};
  const current = kc['current-context'] ?? undefined;
  return {
    contexts: (kc.contexts ?? []).map((c: { name: string }) => String(c.name)),
    ...(current ? { current } : {}),
  };
}

const NAMES = [
  'dev',
  'arn:aws:eks:eu-west-1:123456789012:cluster/Prod',
  'gke_project_europe-west1_cluster-1',
  'kind-kind',
  'name with spaces',
  "it's quoted",
  'a "double" one',
  'true',
  '#hash',
  'colon: inside',
  '- dash',
  'ünïcode',
];

describe('kubeconfig context scan (no YAML parser at start)', () => {
  it('reads what the real kubectl writes, the same as a YAML parser', () => {
    const { kubectl } = kubeBinaries();
    const file = join(dir, 'kubectl-written');
    const env = { ...process.env, KUBECONFIG: file };
    const k = (...args: string[]) => execFileSync(kubectl, args, { env, stdio: 'pipe' });
    k('config', 'set-cluster', 'c', '--server', 'https://127.0.0.1:6443');
    k('config', 'set-credentials', 'u', '--token', 't');
    for (const name of NAMES)
      k('config', 'set-context', '--cluster', 'c', '--user', 'u', '--namespace', 'ns', '--', name);
    k('config', 'use-context', '--', 'arn:aws:eks:eu-west-1:123456789012:cluster/Prod');
    const text = readFileSync(file, 'utf8');
    expect(scanContexts(text)).toEqual(parsed(text));
    expect(parsed(text).contexts).toHaveLength(NAMES.length);
    // and kubectl's own JSON rendering of the same file
    const json = k('config', 'view', '--raw', '-o', 'json').toString();
    expect(scanContexts(json)).toEqual(parsed(text));
  });

  it.each([
    [
      'indented sequence, comments, quotes',
      `# kubeconfig\napiVersion: v1\ncontexts:   # all of them\n  - name: "a b"  # first\n    context:\n      cluster: c\n      namespace: x\n  - context: {cluster: c, user: u}\n    name: 'it''s'\n  -\n    name: plain # comment\ncurrent-context: 'a b'\nkind: Config\n`,
    ],
    ['no contexts', 'apiVersion: v1\nkind: Config\ncontexts: []\ncurrent-context: ""\n'],
    ['null contexts, document marker', '---\napiVersion: v1\ncontexts:\ncurrent-context: x\nusers: []\n'],
    [
      'windows line ends',
      'contexts:\r\n- context:\r\n    cluster: c\r\n  name: dev\r\ncurrent-context: dev\r\n',
    ],
    [
      'a second document is ignored',
      'contexts:\n- name: one\ncurrent-context: one\n---\ncontexts:\n- name: two\n',
    ],
    ['a nested key called name', 'contexts:\n- context:\n    name: nested\n    cluster: c\n  name: outer\n'],
  ])('%s: the same as a YAML parser', (_what, text) => {
    expect(scanContexts(text)).toEqual(parsed(text));
  });

  it.each([
    ['flow style', 'current-context: dev\ncontexts: [{name: dev}, {name: prod}]\n', 'flow style'],
    ['anchors', 'contexts:\n- &base\n  name: dev\n- <<: *base\ncurrent-context: dev\n', 'anchor'],
    [
      'a merge key',
      'contexts:\n- name: dev\n- context:\n    cluster: c\n  <<: {name: x}\ncurrent-context: dev\n',
      'merge key',
    ],
    [
      'a name over two lines',
      'contexts:\n- name: very long\n    name continued\ncurrent-context: dev\n',
      'continues',
    ],
    ['a block scalar name', 'contexts:\n- name: |\n    dev\ncurrent-context: dev\n', 'beyond plain'],
  ])('%s: reported as unsupported (never guessed), the current context kept', (_what, text, why) => {
    const r = scanContexts(text);
    expect(r).toMatchObject({ unsupported: expect.stringContaining(why), current: 'dev' });
  });

  it('instancesFrom: an unreadable context list keeps policy safe', () => {
    const file = join(dir, 'odd');
    writeFileSync(file, 'contexts: [{name: dev}, {name: prod}]\n');
    // no current context to serve, and readOnlyContexts cannot be checked: a clear error at start
    expect(() => instancesFrom({ kubeconfig: file, readOnlyContexts: ['prod'] } as never)).toThrow(
      /cannot read the contexts of .*odd \(line 1: contexts in flow style\), so readOnlyContexts cannot be applied: rewrite it/,
    );
    writeFileSync(file, 'current-context: prod\ncontexts: [{name: dev}, {name: prod}]\n');
    const warnings: string[] = [];
    const found = instancesFrom({ kubeconfig: file, readOnlyContexts: ['prod'] } as never, {
      instance: 'default',
      log: { warn: (m: string) => warnings.push(m) } as never,
    });
    expect(found).toEqual([
      { name: 'prod', options: { context: 'prod' }, default: true, policy: { readOnly: true } },
    ]);
    expect(warnings[0]).toMatch(/serving its current context "prod" only/);
  });

  it('instancesFrom: KUBECONFIG with several files says only the first is read and how to merge', () => {
    const first = join(dir, 'first');
    writeFileSync(first, 'current-context: dev\ncontexts:\n- name: dev\n  context: {}\n');
    const warnings: string[] = [];
    vi.stubEnv('KUBECONFIG', `${first}:${join(dir, 'second')}`);
    try {
      const found = instancesFrom({ readOnlyContexts: [] } as never, {
        instance: 'default',
        log: { warn: (m: string) => warnings.push(m) } as never,
      });
      expect(found?.map((i) => i.name)).toEqual(['dev']);
      expect(warnings).toEqual([
        expect.stringMatching(
          /KUBECONFIG lists 2 files; only the first \(.*first\) is read.*kubectl config view --flatten/,
        ),
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
