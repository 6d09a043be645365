import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createServer, definePlugin, definePrompt, defineResource, MemoryAuditSink } from '../src/index.js';
import { kv } from './fixture-plugin.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const METRICS = ['up', 'node_load1', 'node_load5', 'node_cpu_seconds_total', 'node_memory_free_bytes'];

const completing = definePlugin({
  id: 'comp',
  title: 'Completing',
  description: 'Prompts and templates with completers (tests)',
  version: '0.0.0',
  config: z.object({ password: z.string().default('hunter22-secret') }),
  setup: async () => ({}),
  tools: [],
  prompts: [
    definePrompt({
      name: 'explain',
      description: 'Explain a metric of a job',
      args: z.object({
        job: z.string().describe('Job'),
        metric: z.string().describe('Metric'),
        note: z.string().optional().describe('Free text'),
      }),
      render: ({ metric }) => [{ role: 'user', text: `Explain ${metric}` }],
      complete: {
        job: (value) => ['node', 'prometheus', 'alertmanager'].filter((j) => j.startsWith(value)),
        // depends on the argument already chosen
        metric: async (value, { arguments: args }) =>
          METRICS.filter((m) => m.startsWith(value) && (args?.job !== 'node' || m.startsWith('node_'))),
      },
    }),
    definePrompt({
      name: 'many',
      description: 'A prompt with very many candidate values',
      args: z.object({ n: z.string().describe('A number') }),
      render: ({ n }) => [{ role: 'user', text: n }],
      complete: { n: (value) => Array.from({ length: 250 }, (_, i) => `${value}${i}`) },
    }),
    definePrompt({
      name: 'broken',
      description: 'A completer that fails, leaking a credential in its error',
      args: z.object({ x: z.string().describe('x') }),
      render: () => [],
      complete: {
        x: () => {
          throw new Error('backend https://admin:pa55w0rd@db.local said no (password hunter22-secret)');
        },
      },
    }),
  ],
  resources: [
    defineResource({
      name: 'series',
      template: 'comp://{instance}/series/{metric}',
      description: 'Series of a metric',
      read: async () => [{ text: '' }],
      complete: {
        instance: (value) => ['prod', 'staging'].filter((i) => i.startsWith(value)),
        metric: (value) => METRICS.filter((m) => m.includes(value)),
      },
    }),
    defineResource({ name: 'fixed', uri: 'comp://fixed', read: async () => [{ text: 'x' }] }),
  ],
});

const prompt = (name: string) => ({ type: 'ref/prompt' as const, name });
const template = (uri: string) => ({ type: 'ref/resource' as const, uri });

describe('completion/complete', () => {
  it('declares the completions capability only when some prompt or template has completers', async () => {
    const without = await connect([kv({ url: 'http://kv.local' })]);
    expect(without.client.getServerCapabilities()?.completions).toBeUndefined();
    await expect(
      without.client.complete({ ref: prompt('kv_x'), argument: { name: 'a', value: '' } }),
    ).rejects.toMatchObject({ code: -32601 });
    await without.close();
    const withCompleters = await connect([completing()]);
    expect(withCompleters.client.getServerCapabilities()?.completions).toEqual({});
    await withCompleters.close();
  });

  it('completes prompt arguments, passing the arguments already chosen', async () => {
    const t = await connect([completing()]);
    const jobs = await t.client.complete({
      ref: prompt('comp_explain'),
      argument: { name: 'job', value: 'pro' },
    });
    expect(jobs.completion).toEqual({ values: ['prometheus'], total: 1, hasMore: false });
    const any = await t.client.complete({
      ref: prompt('comp_explain'),
      argument: { name: 'metric', value: '' },
      context: { arguments: { job: 'node' } },
    });
    expect(any.completion.values).toEqual(METRICS.filter((m) => m.startsWith('node_')));
    const noContext = await t.client.complete({
      ref: prompt('comp_explain'),
      argument: { name: 'metric', value: 'u' },
    });
    expect(noContext.completion.values).toEqual(['up']);
    await t.close();
  });

  it('completes resource-template variables', async () => {
    const t = await connect([completing()]);
    const ref = template('comp://{instance}/series/{metric}');
    expect(
      (await t.client.complete({ ref, argument: { name: 'instance', value: 'st' } })).completion.values,
    ).toEqual(['staging']);
    expect(
      (await t.client.complete({ ref, argument: { name: 'metric', value: 'load' } })).completion.values,
    ).toEqual(['node_load1', 'node_load5']);
    await t.close();
  });

  it('sends at most 100 values with the total and hasMore', async () => {
    const t = await connect([completing()]);
    const r = await t.client.complete({ ref: prompt('comp_many'), argument: { name: 'n', value: '7' } });
    expect(r.completion.values).toHaveLength(100);
    expect(r.completion.values[0]).toBe('70');
    expect(r.completion).toMatchObject({ total: 250, hasMore: true });
    await t.close();
  });

  it('an argument without a completer has no values', async () => {
    const t = await connect([completing()]);
    const r = await t.client.complete({
      ref: prompt('comp_explain'),
      argument: { name: 'note', value: 'x' },
    });
    expect(r.completion).toEqual({ values: [], total: 0, hasMore: false });
    await t.close();
  });

  it('unknown prompts, resources and arguments are InvalidParams', async () => {
    const t = await connect([completing()]);
    await expect(
      t.client.complete({ ref: prompt('comp_nope'), argument: { name: 'job', value: '' } }),
    ).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/Unknown prompt: comp_nope/) });
    await expect(
      t.client.complete({ ref: template('comp://{x}/nope'), argument: { name: 'x', value: '' } }),
    ).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/Unknown resource/) });
    await expect(
      t.client.complete({ ref: prompt('comp_explain'), argument: { name: 'colour', value: '' } }),
    ).rejects.toMatchObject({
      code: -32602,
      message: expect.stringMatching(
        /prompt comp_explain has no argument "colour" \(it has job, metric, note\)/,
      ),
    });
    await expect(
      t.client.complete({ ref: template('comp://fixed'), argument: { name: 'x', value: '' } }),
    ).rejects.toMatchObject({ code: -32602, message: expect.stringMatching(/has no argument "x"$/) });
    await t.close();
  });

  it('a failing completer is an internal error without the credentials of its message', async () => {
    const t = await connect([completing()]);
    const err: any = await t.client
      .complete({ ref: prompt('comp_broken'), argument: { name: 'x', value: '' } })
      .catch((e) => e);
    expect(err.code).toBe(-32603);
    expect(err.message).toMatch(
      /completing x of prompt comp_broken failed: backend https:\/\/admin:\[REDACTED\]@db/,
    );
    expect(err.message).not.toMatch(/pa55w0rd|hunter22-secret/);
    await t.close();
  });

  it('a completer for an argument the prompt or template does not have is a compose-time error', () => {
    const bad = definePlugin({
      id: 'bad',
      title: 'Bad',
      description: 'x',
      version: '0',
      config: z.object({}),
      setup: async () => ({}),
      tools: [],
      prompts: [
        {
          name: 'p',
          description: 'p',
          args: z.object({ job: z.string() }),
          render: () => [],
          complete: { jbo: () => [] },
        },
      ],
    });
    expect(() =>
      createServer({ plugins: [bad()], audit: [new MemoryAuditSink()], logger: quiet, env: {} }),
    ).toThrow(/prompt "bad_p" has a completer for "jbo", which is not one of its arguments \(job\)/);
    const badTemplate = definePlugin({
      id: 'bad',
      title: 'Bad',
      description: 'x',
      version: '0',
      config: z.object({}),
      setup: async () => ({}),
      tools: [],
      resources: [{ name: 'r', template: 'bad://{a}', read: async () => [], complete: { b: () => [] } }],
    });
    expect(() =>
      createServer({ plugins: [badTemplate()], audit: [new MemoryAuditSink()], logger: quiet, env: {} }),
    ).toThrow(/resource "r" \(plugin bad\) has a completer for "b", which is not one of its arguments \(a\)/);
  });
});
