/**
 * Instances discovered at start (`instancesFrom`): a fixture plugin reads a small kubeconfig-like
 * YAML file and turns its contexts into instances, the production one read-only.
 */

import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@infra-mcp/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import {
  createServer,
  definePlugin,
  defineTool,
  MemoryAuditSink,
  matchesAny,
  toInstanceName,
} from '../src/index.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
current-context: kind-dev
clusters:
  - name: prod
    cluster: { server: https://prod.example:6443 }
  - name: dev
    cluster: { server: https://127.0.0.1:6443 }
contexts:
  - name: arn:aws:eks:eu-west-1:123:cluster/Prod-EU
    context: { cluster: prod, user: admin }
  - name: kind-dev
    context: { cluster: dev, user: me }
users:
  - name: admin
  - name: me
`;

interface KubeConfigFile {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string } }[];
}

/** Fixture: one instance per kubeconfig context; contexts matching readOnlyContexts get a read-only policy. */
const kube = definePlugin({
  id: 'kube',
  title: 'Kube fixture',
  description: 'kubeconfig contexts as instances',
  version: '0.0.0',
  instances: true,
  config: z.object({
    kubeconfig: z.string().describe('Path of the kubeconfig'),
    context: z.string().optional().describe('Context to use (set per discovered instance)'),
    readOnlyContexts: z.array(z.string()).default([]).describe('Globs of context names served read-only'),
  }),
  instancesFrom: (config) => {
    if (config.context) return undefined; // pinned to one context: keep as configured
    const file = parse(readFileSync(config.kubeconfig, 'utf8')) as KubeConfigFile;
    return (file.contexts ?? []).map((c) => ({
      name: toInstanceName(c.name.split('/').pop()!),
      options: { context: c.name },
      default: c.name === file['current-context'],
      ...(matchesAny(c.name, config.readOnlyContexts) ? { policy: { readOnly: true } } : {}),
    }));
  },
  setup: async (config, { instance }) => ({ instance, context: config.context }),
  tools: [
    defineTool({
      name: 'whoami',
      description: 'The context of this instance',
      input: z.object({}),
      output: z.object({ instance: z.string(), context: z.string().optional() }),
      effect: 'read',
      run: async (_args, ctx) => ({ data: ctx.client }),
    }),
    defineTool({
      name: 'scale',
      description: 'Scale something',
      input: z.object({ replicas: z.number().int().describe('Replicas') }),
      output: z.object({ done: z.boolean() }),
      effect: 'write',
      plan: async (args) => ({ change: args, preview: args }),
      run: async () => ({ data: { done: true } }),
    }),
  ],
});

let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'infra-mcp-instances-'));
  kubeconfig = join(dir, 'config.yaml');
  await writeFile(kubeconfig, KUBECONFIG);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const options = () => ({ kubeconfig, readOnlyContexts: ['arn:aws:eks:*:*:cluster/Prod-*'] });

describe('instancesFrom', () => {
  it('turns kubeconfig contexts into instances, the current context first (the default)', async () => {
    const t = await connect([kube(options())]);
    const tools = await t.listTools();
    const whoami = tools.find((x) => x.name === 'kube_whoami')!;
    expect((whoami.inputSchema.properties as any).instance.enum).toEqual(['kind-dev', 'prod-eu']);
    const dflt = await t.call('kube_whoami', {});
    expect(dflt.structured).toEqual({ instance: 'kind-dev', context: 'kind-dev' });
    const prod = await t.call('kube_whoami', { instance: 'prod-eu' });
    expect(prod.structured).toEqual({
      instance: 'prod-eu',
      context: 'arn:aws:eks:eu-west-1:123:cluster/Prod-EU',
    });
    await t.close();
  });

  it('each discovered instance carries its own policy: prod read-only, dev writable', async () => {
    const audit = new MemoryAuditSink();
    const t = await connect([kube(options())], { audit: [audit] });
    const dev = await t.call('kube_scale', { instance: 'kind-dev', replicas: 2 });
    expect(dev.isError, dev.text).toBe(false);
    expect(dev.structured.approval).toEqual(expect.any(String));
    const prod = await t.call('kube_scale', { instance: 'prod-eu', replicas: 2 });
    expect(prod.errorCode).toBe('denied_by_policy');
    expect(prod.text).toContain('instance kube/prod-eu policy is read-only');
    expect(audit.records.at(-1)).toMatchObject({
      tool: 'kube_scale',
      instance: 'prod-eu',
      outcome: 'denied',
    });
    await t.close();
  });

  it("the config file's policy for a discovered instance wins over the plugin's", async () => {
    const t = await connect([kube(options())], {
      pluginConfig: { kube: { policy: { instances: { 'prod-eu': { readOnly: false } } } } },
    });
    const prod = await t.call('kube_scale', { instance: 'prod-eu', replicas: 2 });
    expect(prod.isError, prod.text).toBe(false);
    await t.close();
  });

  it('an instance that returns undefined stays as configured, next to discovered ones', async () => {
    const t = await connect([
      kube({
        instances: {
          all: options(),
          pinned: { kubeconfig, context: 'kind-dev' },
        },
      }),
    ]);
    const whoami = (await t.listTools()).find((x) => x.name === 'kube_whoami')!;
    expect((whoami.inputSchema.properties as any).instance.enum).toEqual(['kind-dev', 'prod-eu', 'pinned']);
    await t.close();
  });

  it('problems are config errors at start, naming the plugin and what to fix', () => {
    const start = (plugin: ReturnType<typeof kube>) => () =>
      createServer({ plugins: [plugin], audit: [new MemoryAuditSink()], env: {} });
    expect(start(kube({ kubeconfig: join(dir, 'missing.yaml') }))).toThrow(
      /plugins\.kube \(instance "default"\): discovering instances failed: ENOENT.*missing\.yaml/,
    );
    // a configured instance named like a discovered one
    expect(start(kube({ instances: { 'prod-eu': { ...options(), context: 'x' }, all: options() } }))).toThrow(
      /instance "prod-eu" is defined twice \(configured and discovered from "all"\)/,
    );
    expect(() =>
      definePlugin({
        id: 'bad',
        title: 'b',
        description: 'b',
        version: '0',
        config: z.object({}),
        instancesFrom: () => [],
        setup: async () => ({}),
        tools: [],
      }),
    ).toThrow(/instancesFrom but not instances: true/);
  });

  it('toInstanceName makes any label a valid instance name', () => {
    expect(toInstanceName('arn:aws:eks:eu-west-1:123:cluster/Prod-EU')).toBe(
      'arn-aws-eks-eu-west-1-123-cluster-prod-eu',
    );
    expect(toInstanceName('gke_proj_europe-west1_main')).toBe('gke_proj_europe-west1_main');
    expect(toInstanceName('--Kind Dev--')).toBe('kind-dev');
    expect(toInstanceName('***')).toBe('instance');
  });
});

describe('instancesFrom keeps the plugin redaction rules', () => {
  it('redacts values at the plugin paths and its redact.values on discovered instances', async () => {
    const withSecrets = definePlugin({
      id: 'kube2',
      title: 'Kube fixture with secrets',
      description: 'kubeconfig contexts as instances, answers holding secrets',
      version: '0.0.0',
      instances: true,
      config: z.object({
        kubeconfig: z.string().describe('Path of the kubeconfig'),
        context: z.string().optional().describe('Context'),
      }),
      instancesFrom: (config) =>
        config.context
          ? undefined
          : [
              { name: 'dev', options: { context: 'ctx-dev-value' } },
              { name: 'prod', options: { context: 'p' } },
            ],
      redact: { paths: ['[kind=/^Secret$/].data.*'], values: (config) => [config.context] },
      setup: async () => ({}),
      tools: [
        defineTool({
          name: 'get',
          description: 'A Secret and a ConfigMap',
          input: z.object({}),
          output: z.object({ items: z.array(z.unknown()) }),
          effect: 'read',
          run: async () => ({
            data: {
              items: [
                { kind: 'Secret', data: { k: 'YQ==' } },
                { kind: 'ConfigMap', data: { k: 'visible' }, note: 'ctx-dev-value' },
              ],
            },
          }),
        }),
      ],
    });
    const t = await connect([withSecrets({ kubeconfig })]);
    const r = await t.call('kube2_get', { instance: 'dev' });
    expect(r.structured.items).toEqual([
      { kind: 'Secret', data: { k: '[REDACTED]' } },
      { kind: 'ConfigMap', data: { k: 'visible' }, note: '[REDACTED]' },
    ]);
    await t.close();
  });
});
