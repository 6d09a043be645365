/** What a client pays for at the start of every session: Prometheus's tools/list. */
import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { prometheus } from '../src/index.js';

// no backend is reached by tools/list
const url = 'http://127.0.0.1:9';

describe('prometheus tools/list', () => {
  it('lists the query and discover toolsets by default; status on request', async () => {
    const t = await connect([prometheus({ url })]);
    expect((await t.listTools()).map((x) => x.name)).toEqual([
      'prometheus_label_values',
      'prometheus_labels',
      'prometheus_metadata',
      'prometheus_query',
      'prometheus_query_range',
      'prometheus_series',
    ]);
    const status = await connect([prometheus({ url })], {
      pluginConfig: { prometheus: { toolsets: ['status'] } },
    });
    expect((await status.listTools()).map((x) => x.name)).toEqual([
      'prometheus_alerts',
      'prometheus_rules',
      'prometheus_status',
      'prometheus_targets',
    ]);
  });

  it('every input and output schema of every tool is portable: no type arrays', async () => {
    const t = await connect(
      [prometheus({ instances: { a: { url }, amp: { url, sigv4: { region: 'us-east-1' } } } })],
      { pluginConfig: { prometheus: { toolsets: 'all' } } },
    );
    const tools = await t.listTools();
    expect(tools).toHaveLength(11);
    const found: string[] = [];
    let nodes = 0;
    // a schema node; `properties` (and the like) map names to schema nodes
    const walk = (node: unknown, path: string) => {
      if (Array.isArray(node)) for (const [i, n] of node.entries()) walk(n, `${path}/${i}`);
      else if (node && typeof node === 'object') {
        nodes++;
        const type = (node as { type?: unknown }).type;
        if (type !== undefined && typeof type !== 'string') found.push(`${path}: ${JSON.stringify(type)}`);
        for (const [k, v] of Object.entries(node)) {
          if (
            ['properties', 'patternProperties', '$defs', 'definitions'].includes(k) &&
            v &&
            typeof v === 'object'
          )
            for (const [name, child] of Object.entries(v)) walk(child, `${path}/${k}/${name}`);
          else if (typeof v === 'object') walk(v, `${path}/${k}`);
        }
      }
    };
    for (const tool of tools) {
      walk(tool.inputSchema, `${tool.name}/inputSchema`);
      walk(tool.outputSchema, `${tool.name}/outputSchema`);
    }
    expect(found).toEqual([]);
    expect(nodes).toBeGreaterThan(200);
    // the unions that used to be type arrays are anyOf now
    const query = tools.find((x) => x.name === 'prometheus_query');
    expect(query.inputSchema.properties.time.anyOf).toEqual([{ type: 'string' }, { type: 'number' }]);
  });

  it('two servers built from the same config list identically', async () => {
    const make = () =>
      connect([prometheus({ instances: { b: { url }, a: { url } } })], {
        pluginConfig: { prometheus: { toolsets: ['status', 'query'] } },
      });
    const [one, two] = await Promise.all([make(), make()]);
    const a = JSON.stringify(await one.client.listTools());
    expect(a).toBe(JSON.stringify(await two.client.listTools()));
    expect(a.length).toBeGreaterThan(1000);
  });
});
