import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, defineResource } from '../src/index.js';
import { kv } from './fixture-plugin.js';

/** A plugin whose resource and completer ask the backend through the plugin client. */
const catalog = definePlugin({
  id: 'catalog',
  title: 'Catalog',
  description: 'Resources and completers backed by the client (tests)',
  version: '0.0.0',
  config: z.object({ token: z.string().default('s3cr3t-catalog-token') }),
  setup: async (config) => ({
    namespaces: ['default', 'kube-system', 'team-a'],
    token: config.token,
    reads: 0,
  }),
  tools: [],
  resources: [
    defineResource<{ namespaces: string[]; token: string; reads: number }>({
      name: 'namespace',
      template: 'catalog://ns/{name}',
      description: 'One namespace',
      read: async (_uri, { name }, ctx) => {
        ctx.client.reads++;
        if (name === 'slow') await new Promise((r) => setTimeout(r, 5_000));
        return [{ text: `namespace ${name} (read with ${ctx.client.token})` }];
      },
      complete: { name: (value, _c, ctx) => ctx.client.namespaces.filter((n) => n.startsWith(value)) },
    }),
  ],
});

describe('resources and completions go through the call pipeline', () => {
  it('a resource read under a deny rule is refused and audited', async () => {
    const t = await connect([catalog()], { policy: { deny: ['catalog_*'] } });
    await expect(t.client.readResource({ uri: 'catalog://ns/default' })).rejects.toThrow(
      /catalog_namespace is denied by the server policy/,
    );
    expect(t.audit.records).toMatchObject([{ tool: 'catalog_namespace', outcome: 'denied' }]);
    const client = (await t.server.registry.runtimes[0]!.client('default')) as { reads: number };
    expect(client.reads).toBe(0);
    await t.close();
  });

  it('an allowed read is audited and scrubbed of the plugin secrets', async () => {
    const t = await connect([catalog()]);
    const r = await t.client.readResource({ uri: 'catalog://ns/team-a' });
    expect((r.contents[0] as { text: string }).text).toBe('namespace team-a (read with [REDACTED])');
    expect(t.audit.records).toMatchObject([
      { tool: 'catalog_namespace', outcome: 'ok', args: { uri: 'catalog://ns/team-a' } },
    ]);
    await t.close();
  });

  it('a resource read stops at the timeout', async () => {
    const t = await connect([catalog()], { timeoutMs: 200 });
    await expect(t.client.readResource({ uri: 'catalog://ns/slow' })).rejects.toThrow(
      /no answer within 200 ms/,
    );
    expect(t.audit.records.at(-1)).toMatchObject({ outcome: 'error', errorCode: 'timeout' });
    await t.close();
  });

  it('completers ask the backend through the plugin client', async () => {
    const t = await connect([catalog()]);
    const r = await t.client.complete({
      ref: { type: 'ref/resource', uri: 'catalog://ns/{name}' },
      argument: { name: 'name', value: 'k' },
    });
    expect(r.completion.values).toEqual(['kube-system']);
    expect(t.audit.records.at(-1)).toMatchObject({ tool: 'catalog_namespace', outcome: 'ok' });
    await t.close();
  });
});

describe('protocol answers', () => {
  it('the unknown-tool error names the tool once, without a doubled code prefix', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const err = await t.client.callTool({ name: 'kv_nope', arguments: {} }).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      'MCP error -32602: Unknown tool: kv_nope. tools/list shows the tools this server offers.',
    );
    await t.close();
  });

  it('non-object arguments get a tool error in words, not a raw schema dump', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const raw: any = await t.client.request(
      { method: 'tools/call', params: { name: 'kv_get', arguments: ['a'] } } as never,
      (await import('@modelcontextprotocol/sdk/types.js')).CallToolResultSchema,
    );
    expect(raw.isError).toBe(true);
    expect(raw.content[0].text).toMatch(
      /^error \[invalid_arguments\]: invalid arguments for kv_get: arguments must be an object/,
    );
    await t.close();
  });

  it('advertises resources and prompts only when some plugin has them', async () => {
    const bare = await connect([kv({ url: 'http://kv.local' })]);
    const caps = bare.client.getServerCapabilities();
    expect(caps?.resources).toBeUndefined();
    expect(caps?.prompts).toBeUndefined();
    expect(caps?.tools).toBeDefined();
    await bare.close();
    const withResources = await connect([catalog()]);
    expect(withResources.client.getServerCapabilities()?.resources).toEqual({});
    await withResources.close();
  });
});
