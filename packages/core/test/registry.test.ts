import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createServer, definePlugin, defineTool } from '../src/index.js';
import { kv } from './fixture-plugin.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function plugin(id: string, toolName: string) {
  return definePlugin({
    id,
    title: id,
    description: id,
    version: '0',
    config: z.object({}),
    setup: async () => ({}),
    tools: [
      defineTool({
        name: toolName,
        description: 'x',
        input: z.object({}),
        output: z.object({}),
        effect: 'read',
        run: async () => ({ data: {} }),
      }),
    ],
  })();
}

describe('registry', () => {
  it('prefixes tool names with the plugin id and derives annotations from the effect', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const tools = await t.listTools();
    expect(tools.map((x) => x.name)).toEqual(['kv_delete', 'kv_get', 'kv_set']);
    const byName = Object.fromEntries(tools.map((x) => [x.name, x]));
    // what the MCP defaults say (openWorldHint true; destructive/idempotent hints of read tools) is not repeated
    expect(byName.kv_get.annotations).toEqual({ readOnlyHint: true });
    expect(byName.kv_set.annotations).toEqual({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
    });
    expect(byName.kv_delete.annotations).toEqual({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
    });
    expect(byName.kv_set.inputSchema.properties).toHaveProperty('approval');
    expect(byName.kv_get.inputSchema.properties).not.toHaveProperty('approval');
    expect(byName.kv_get.outputSchema).toMatchObject({ type: 'object', required: ['key', 'value'] });
    await t.close();
  });

  it('computes tools/list once: every request serves the list built at start', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const get = (list: { name: string; description?: string }[]) => list.find((x) => x.name === 'kv_get')!;
    const first = await t.listTools();
    // a marker put into the list built at start shows up in later answers only if nothing rebuilds it
    get(t.server.registry.toolList).description = 'marker: served from the registry';
    const second = await t.listTools();
    expect(get(first).description).not.toBe('marker: served from the registry');
    expect(get(second).description).toBe('marker: served from the registry');
    await t.close();
  });

  it('refuses a name collision at compose time, naming both sources', () => {
    expect(() =>
      createServer({ plugins: [plugin('a', 'b_c'), plugin('a-b', 'c')], audit: [], logger: quiet, env: {} }),
    ).toThrow(/tool name collision: "a_b_c" is defined by plugin a tool b_c and by plugin a-b tool c/);
  });

  it('refuses full names over 64 characters', () => {
    expect(() =>
      createServer({ plugins: [plugin('p', 'x'.repeat(63))], audit: [], logger: quiet, env: {} }),
    ).toThrow(/at most 64 characters/);
  });

  it('adds an instance enum only when several instances are configured', async () => {
    const t = await connect([
      kv({ instances: { prod: { url: 'http://prod.local' }, dev: { url: 'http://dev.local' } } }),
    ]);
    const [get] = await t.listTools();
    expect(get.inputSchema.properties.instance).toMatchObject({ enum: ['prod', 'dev'] });
    const r = await t.call('kv_get', { key: 'a', instance: 'staging' });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('invalid_arguments');
    expect(r.text).toMatch(/instance/);
    await t.close();
  });
});

describe('policy', () => {
  it('read-only mode does not even list write and destructive tools, and refuses them by name', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })], { policy: { readOnly: true } });
    expect((await t.listTools()).map((x) => x.name)).toEqual(['kv_get']);
    const r = await t.call('kv_set', { key: 'a', value: 'x' });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('denied_by_policy');
    expect(r.text).toMatch(/read-only/);
    expect(t.audit.records.at(-1)).toMatchObject({
      tool: 'kv_set',
      outcome: 'denied',
      errorCode: 'denied_by_policy',
    });
    await t.close();
  });

  it('applies allow and deny globs on full tool names', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })], {
      policy: { allow: ['kv_*'], deny: ['*_delete'] },
    });
    expect((await t.listTools()).map((x) => x.name)).toEqual(['kv_get', 'kv_set']);
    expect((await t.call('kv_delete', { key: 'a' })).text).toMatch(/deny list/);
    await t.close();
  });

  it('per-instance policy: prod read-only, dev writable', async () => {
    const t = await connect(
      [kv({ instances: { prod: { url: 'http://prod.local' }, dev: { url: 'http://dev.local' } } })],
      {
        policy: { plugins: { kv: { instances: { prod: { readOnly: true } } } } },
      },
    );
    expect((await t.listTools()).map((x) => x.name)).toContain('kv_set');
    const prod = await t.call('kv_set', { key: 'a', value: 'x', instance: 'prod' });
    expect(prod.errorCode).toBe('denied_by_policy');
    expect(prod.text).toMatch(/instance kv\/prod policy is read-only/);
    const dev = await t.call('kv_set', { key: 'a', value: 'x', instance: 'dev' });
    expect(dev.isError).toBe(false);
    expect(dev.structured.dryRun).toBe(true);
    await t.close();
  });
});

describe('tools available only for some configurations', () => {
  const gated = definePlugin({
    id: 'g',
    title: 'g',
    description: 'g',
    version: '0',
    instances: true,
    config: z.object({ special: z.boolean().default(false) }),
    setup: async () => ({}),
    tools: [
      defineTool({
        name: 'special',
        description: 'Needs special',
        input: z.object({}),
        output: z.object({ ok: z.boolean() }),
        effect: 'read',
        availableFor: (c) => c.special,
        run: async () => ({ data: { ok: true } }),
      }),
    ],
  });

  it('is not listed when no instance is configured for it', async () => {
    const t = await connect([gated({ instances: { a: {} } })]);
    expect(await t.listTools()).toEqual([]);
    await t.close();
  });

  it('is listed when one instance is, and refused with not_configured on the others', async () => {
    const t = await connect([gated({ instances: { a: {}, b: { special: true } } })]);
    expect((await t.listTools()).map((x) => x.name)).toEqual(['g_special']);
    expect((await t.call('g_special', { instance: 'b' })).structured).toEqual({ ok: true });
    const r = await t.call('g_special', { instance: 'a' });
    expect(r.errorCode).toBe('not_configured');
    expect(r.text).toMatch(/not available on g instance "a"/);
    await t.close();
  });
});
