import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, defineTool } from '../src/index.js';

/**
 * `ctx.reveal`: a value shown to this call's caller as it is, where the instance's config opts in,
 * while the audit record (and every other output) keeps it redacted.
 */
const vault = definePlugin({
  id: 'vault',
  title: 'Vault',
  description: 'Objects with secret values',
  version: '0.0.0',
  config: z.object({ reveal: z.boolean().default(false) }),
  instances: true,
  redact: { paths: ['[kind=/^Secret$/].data.*'] },
  setup: async () => ({}),
  tools: [
    defineTool({
      name: 'get',
      description: 'A Secret',
      effect: 'read',
      input: z.object({}),
      output: z.object({ object: z.record(z.string(), z.unknown()) }),
      run: async (_args, ctx) => {
        const data = { password: 'hunter2-long-value', pin: '4321' };
        const show = (ctx.config as { reveal: boolean }).reveal;
        const shown = show
          ? Object.fromEntries(Object.entries(data).map(([k, v]) => [k, ctx.reveal(v)]))
          : data;
        return {
          data: { object: { kind: 'Secret', data: shown } },
          text: `password=${shown.password} pin: ${shown.pin}`,
          audit: { shown: shown.password },
        };
      },
    }),
    defineTool({
      name: 'echo',
      description: 'Echo a text',
      effect: 'read',
      input: z.object({ text: z.string() }),
      output: z.object({ text: z.string() }),
      run: async ({ text }) => ({ data: { text } }),
    }),
  ],
});

describe('ctx.reveal', () => {
  it('shows the values to the caller on an opted-in instance; the audit record and other instances keep them redacted', async () => {
    const t = await connect([vault({ instances: { open: { reveal: true }, closed: {} } })]);
    const shut = await t.call('vault_get', { instance: 'closed' });
    expect(shut.structured.object.data).toEqual({ password: '[REDACTED]', pin: '[REDACTED]' });
    expect(JSON.stringify(shut.raw)).not.toContain('hunter2-long-value');

    const open = await t.call('vault_get', { instance: 'open' });
    // the path rule and the secret-looking key would both redact these: revealed, they are shown
    expect(open.structured.object.data).toEqual({ password: 'hunter2-long-value', pin: '4321' });
    expect(open.text).toBe('password=hunter2-long-value pin: 4321');

    const audit = JSON.stringify(t.audit.records);
    expect(audit).not.toContain('hunter2-long-value');
    expect(t.audit.records.at(-1)?.details).toEqual({ shown: expect.stringMatching(/^\u27e6reveal:/) });

    // learned: the value is scrubbed from every other answer, and from the echo's audited arguments
    const echoed = await t.call('vault_echo', { instance: 'closed', text: 'it is hunter2-long-value' });
    expect(echoed.structured.text).toBe('it is [REDACTED]');
    expect(JSON.stringify(t.audit.records)).not.toContain('hunter2-long-value');
    // still revealed where it is revealed
    expect((await t.call('vault_get', { instance: 'open' })).structured.object.data.password).toBe(
      'hunter2-long-value',
    );
    await t.close();
  });
});
