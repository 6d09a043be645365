import { z } from 'zod';
import { definePlugin, defineTool, secret, ToolError } from '../src/index.js';

/** A small plugin over an in-memory key/value store: one read, one write, one destructive tool. */
export interface Store {
  values: Map<string, string>;
  setups: number;
}

export const kv = definePlugin({
  id: 'kv',
  title: 'Key/value',
  description: 'In-memory store for tests',
  version: '0.0.0',
  instances: true,
  config: z.object({
    url: z.string().url().describe('Store URL'),
    password: secret(z.string().optional()),
    timeoutMs: z.number().int().positive().default(1000),
  }),
  env: { KV_URL: 'url', KV_PASSWORD: 'password', KV_TIMEOUT_MS: 'timeoutMs' },
  setup: async (config) => {
    if (config.url.includes('broken'))
      throw new Error(`cannot reach ${config.url} with password ${config.password}`);
    return { values: new Map([['a', '1']]), setups: 1 } satisfies Store;
  },
  health: async (store: Store) => ({ ok: true, message: `${store.values.size} keys` }),
  tools: [
    defineTool({
      name: 'get',
      description: 'Read a key',
      input: z.object({ key: z.string().describe('Key') }),
      output: z.object({ key: z.string(), value: z.string().nullable() }),
      effect: 'read',
      run: async ({ key }, ctx) => {
        const store = ctx.client as Store;
        if (key === 'slow') {
          await new Promise((resolve, reject) => {
            const t = setTimeout(resolve, 5000);
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(t);
              reject(ctx.signal.reason);
            });
          });
        }
        if (key === 'fail')
          throw new ToolError('no_such_key', 'key "fail" cannot be read', 'use another key');
        if (key === 'leak')
          throw new Error('backend said: Authorization: Bearer abcdefghijklmnop and password hunter22');
        if (key === 'lines') {
          const text = Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n');
          return { data: { key, value: null }, text };
        }
        if (key === 'log') {
          ctx.log.info('reading with password hunter22 from https://u:pw12345@kv.local');
          ctx.log.debug('debug detail');
        }
        return { data: { key, value: store.values.get(key) ?? null } };
      },
    }),
    defineTool({
      name: 'set',
      description: 'Set a key',
      input: z.object({ key: z.string(), value: z.string() }),
      output: z.object({ key: z.string(), old: z.string().nullable(), value: z.string() }),
      preview: z.object({ key: z.string(), from: z.string().nullable(), to: z.string() }),
      effect: 'write',
      idempotent: true,
      plan: async ({ key, value }, ctx) => {
        const from = (ctx.client as Store).values.get(key) ?? null;
        return {
          change: { key, from, to: value },
          preview: { key, from, to: value },
          text: `${key}: ${from ?? '(unset)'} -> ${value}`,
        };
      },
      run: async ({ key, value }, ctx) => {
        const store = ctx.client as Store;
        if (key === 'slow') await new Promise((resolve) => setTimeout(resolve, 150)); // longer than a short timeout
        const old = store.values.get(key) ?? null;
        store.values.set(key, value);
        return { data: { key, old, value } };
      },
    }),
    defineTool({
      name: 'delete',
      description: 'Delete a key',
      input: z.object({ key: z.string() }),
      output: z.object({ deleted: z.boolean() }),
      effect: 'destructive',
      plan: async ({ key }) => ({ change: { delete: key }, preview: { key } }),
      run: async ({ key }, ctx) => ({ data: { deleted: (ctx.client as Store).values.delete(key) } }),
    }),
  ],
});
