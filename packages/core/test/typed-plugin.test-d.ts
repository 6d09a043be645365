/**
 * Type tests (compiled by `tsc` in core's typecheck): a plugin's tools see `ctx.client` as what
 * `setup` returns and `ctx.config` as the parsed config, with no annotation or cast in the tools.
 */
import { expectTypeOf } from 'vitest';
import { z } from 'zod';
import { definePlugin, toolkit } from '../src/index.js';

class Client {
  count(q: string): number {
    return q.length;
  }
}
const config = z.object({ url: z.string(), timeoutMs: z.number().default(1000) });
type Config = z.infer<typeof config>;

const tool = toolkit<Client, Config>();

const count = tool({
  name: 'count',
  description: 'count',
  input: z.object({ q: z.string(), limit: z.number().optional() }),
  output: z.object({ n: z.number() }),
  effect: 'read',
  run: async (args, ctx) => {
    expectTypeOf(ctx.client).toEqualTypeOf<Client>();
    expectTypeOf(ctx.config).toEqualTypeOf<Config>();
    expectTypeOf(ctx.config.timeoutMs).toEqualTypeOf<number>();
    expectTypeOf(args).toEqualTypeOf<{ q: string; limit?: number | undefined }>();
    return { data: { n: ctx.client.count(args.q) } };
  },
});

// run's data must match the output schema
tool({
  name: 'wrong_data',
  description: 'x',
  input: z.object({}),
  output: z.object({ n: z.number() }),
  effect: 'read',
  // @ts-expect-error: data.n is a string, the output says number
  run: async () => ({ data: { n: 'many' } }),
});

// a typo on the client is caught
tool({
  name: 'typo',
  description: 'x',
  input: z.object({}),
  output: z.object({ n: z.number() }),
  effect: 'read',
  run: async (_args, ctx) => {
    // @ts-expect-error: Client has no countAll
    ctx.client.countAll();
    return { data: { n: 1 } };
  },
});

// the plugin infers its client type from setup, and takes the tools made for it
const ok = definePlugin({
  id: 'counter',
  title: 'Counter',
  description: 'counts',
  version: '0',
  config,
  setup: async () => new Client(),
  tools: [count],
});
expectTypeOf(ok().setup).returns.resolves.toEqualTypeOf<Client>();

// tools made for another client are refused
definePlugin({
  id: 'other',
  title: 'Other',
  description: 'x',
  version: '0',
  config,
  // @ts-expect-error: the tools (count) need ctx.client to be a Client
  setup: async () => ({ somethingElse: true }),
  tools: [count],
});

// tools made for another config are refused
definePlugin({
  id: 'other-config',
  title: 'Other config',
  description: 'x',
  version: '0',
  config: z.object({ host: z.string() }),
  setup: async () => new Client(),
  // @ts-expect-error: count reads ctx.config as { url, timeoutMs }
  tools: [count],
});
