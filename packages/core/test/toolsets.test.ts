/** Toolsets, ctx.config, tools/list order, portable schemas and plugin checks at start (registry.ts, validate.ts). */
import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createServer, definePlugin, defineTool, portable, toolkit } from '../src/index.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const config = z.object({ url: z.string().default('http://x'), region: z.string().default('eu') });
const tool = toolkit<{ calls: number }, z.infer<typeof config>>();
const read = (name: string, toolset: string) =>
  tool({
    name,
    toolset,
    description: name,
    input: z.object({ n: z.union([z.string(), z.number()]).optional().describe('n') }),
    output: z.object({ region: z.string(), v: z.number().nullable() }),
    effect: 'read',
    run: async (_args, ctx) => ({ data: { region: ctx.config.region, v: null } }),
  });

const grouped = definePlugin({
  id: 'grp',
  title: 'Grouped',
  description: 'tools in toolsets',
  version: '0',
  config,
  instances: true,
  setup: async () => ({ calls: 0 }),
  toolsets: {
    basic: { description: 'the everyday tools', default: true },
    admin: { description: 'rarely needed' },
  },
  tools: [read('zeta', 'basic'), read('alpha', 'basic'), read('purge_cache', 'admin')],
});

const names = async (t: Awaited<ReturnType<typeof connect>>) => (await t.listTools()).map((x) => x.name);

describe('toolsets', () => {
  it('lists the default toolsets; the others are chosen by config or by the server option', async () => {
    const byDefault = await connect([grouped()]);
    expect(await names(byDefault)).toEqual(['grp_alpha', 'grp_zeta']);
    expect(byDefault.server.registry.toolsets).toEqual({ grp: ['basic'] });
    expect([...byDefault.server.registry.unlisted]).toEqual(['grp_purge_cache']);
    // not listed, still callable: toolsets choose what a client pays for, policy what may run
    expect((await byDefault.call('grp_purge_cache')).isError).toBe(false);

    const fromConfig = await connect([grouped()], { pluginConfig: { grp: { toolsets: ['admin'] } } });
    expect(await names(fromConfig)).toEqual(['grp_purge_cache']);
    const all = await connect([grouped()], { pluginConfig: { grp: { toolsets: 'all' } } });
    expect(await names(all)).toEqual(['grp_alpha', 'grp_purge_cache', 'grp_zeta']);
  });

  it('rejects an unknown toolset in config, naming the ones there are', () => {
    expect(() =>
      createServer({
        plugins: [grouped()],
        pluginConfig: { grp: { toolsets: ['admn'] } },
        env: {},
        audit: [],
        logger: quiet,
      }),
    ).toThrow(/unknown toolset "admn"; grp has basic, admin/);
  });

  it('rejects a tool without a toolset in a plugin that has toolsets', () => {
    const bad = definePlugin({
      id: 'bad',
      title: 'b',
      description: 'b',
      version: '0',
      config,
      setup: async () => ({ calls: 0 }),
      toolsets: { basic: { description: 'x', default: true } },
      tools: [read('x', 'basic'), { ...read('y', 'basic'), toolset: undefined }],
    });
    expect(() => createServer({ plugins: [bad()], env: {}, audit: [], logger: quiet })).toThrow(
      /plugin bad tool y: toolset is not set/,
    );
  });
});

describe('ctx.config', () => {
  it('is the resolved options of the selected instance', async () => {
    const t = await connect([
      grouped({ instances: { eu: { region: 'eu-west-1' }, us: { region: 'us-east-1' } } }),
    ]);
    expect((await t.call('grp_alpha')).structured.region).toBe('eu-west-1');
    expect((await t.call('grp_alpha', { instance: 'us' })).structured.region).toBe('us-east-1');
  });
});

describe('tools/list', () => {
  it('is the same, byte for byte, for two servers built from the same plugins and config', async () => {
    const one = await connect([grouped()], { pluginConfig: { grp: { toolsets: 'all' } } });
    const two = await connect([grouped()], { pluginConfig: { grp: { toolsets: 'all' } } });
    const a = await one.client.listTools();
    const b = await two.client.listTools();
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.tools.map((x) => x.name)).toEqual([...a.tools.map((x) => x.name)].sort());
  });

  it('has no type arrays: unions and nullables are anyOf of single-type branches', async () => {
    const t = await connect([grouped()]);
    const alpha = (await t.listTools()).find((x) => x.name === 'grp_alpha');
    expect(alpha.inputSchema.properties.n).toEqual({
      description: 'n',
      anyOf: [{ type: 'string' }, { type: 'number' }],
    });
    expect(alpha.outputSchema.properties.v).toEqual({ anyOf: [{ type: 'number' }, { type: 'null' }] });
  });

  it('portable() gives each branch its own keywords and enum values', () => {
    expect(
      portable({
        type: ['string', 'integer', 'null'],
        description: 'd',
        maxLength: 3,
        minimum: 1,
        enum: ['a', 2, null],
      }),
    ).toEqual({
      description: 'd',
      anyOf: [
        { type: 'string', maxLength: 3, enum: ['a'] },
        { type: 'integer', minimum: 1, enum: [2] },
        { type: 'null', enum: [null] },
      ],
    });
    expect(portable({ items: { type: ['boolean'] } })).toEqual({ items: { type: 'boolean' } });
  });
});

describe('plugins checked at start', () => {
  const start = (plugins: unknown[]) =>
    createServer({ plugins: plugins as never, env: {}, audit: [], logger: quiet });

  it('a factory passed where a plugin is expected names the plugin and the call to make', () => {
    expect(() => start([grouped])).toThrow(
      'plugin "grp" was passed as its factory, not a plugin: call it, e.g. grp() or grp({ ...options })',
    );
  });

  it('a plugin whose schemas come from zod 3 names the plugin, the schema and the fix', () => {
    const zod3ish = { _def: { typeName: 'ZodObject' }, parse() {} };
    const p = grouped();
    expect(() => start([{ ...p, tools: [{ ...p.tools[0]!, input: zod3ish }] }])).toThrow(
      /plugin grp: the tool zeta input schema is a zod 3 schema; @infra-mcp\/core needs zod 4/,
    );
    expect(() => start([{ ...p, config: zod3ish }])).toThrow(
      /plugin grp: the config schema is a zod 3 schema/,
    );
  });

  it('something that is no plugin says what to pass', () => {
    expect(() => start([{ id: 'x' }])).toThrow(
      /plugin is object, not an infra-mcp plugin: pass what a plugin factory/,
    );
  });
});

// keeps defineTool (untyped ctx) usable next to typed tools
void defineTool;
