import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, defineTool, secret } from '../src/index.js';

/** `ToolResult.audit`: what a tool asks to record of a successful run (a command's exit code, output tail). */
const runs = definePlugin({
  id: 'runs',
  title: 'Runs',
  description: 'A tool that runs a command',
  version: '0.0.0',
  config: z.object({ token: secret(z.string().default('s3cr3t-token-value')) }),
  setup: async () => ({}),
  tools: [
    defineTool({
      name: 'exec',
      description: 'Run it',
      effect: 'read',
      input: z.object({}),
      output: z.object({ ok: z.boolean() }),
      run: async () => ({
        data: { ok: true },
        audit: {
          argv: ['tool', 'run'],
          exitCode: 0,
          stdout: 'used s3cr3t-token-value',
          big: 'x'.repeat(20_000),
        },
      }),
    }),
    defineTool({
      name: 'change',
      description: 'Change it',
      effect: 'write',
      input: z.object({}),
      output: z.object({ ok: z.boolean() }),
      plan: async () => ({ change: { c: 1 }, preview: {} }),
      run: async () => ({ data: { ok: true }, audit: { exitCode: 0 } }),
    }),
  ],
});

describe('ToolResult.audit', () => {
  it('reaches the audit record as details, scrubbed and bounded, never the result', async () => {
    const t = await connect([runs()]);
    const r = await t.call('runs_exec', {});
    expect(JSON.stringify(r.raw)).not.toContain('exitCode');
    const rec = t.audit.records.at(-1)!;
    // over the details bound: kept as hash, size and prefix; the secret scrubbed before
    expect(rec.details).toMatchObject({
      bytes: expect.any(Number),
      prefix: expect.stringContaining('"exitCode":0'),
    });
    expect(JSON.stringify(rec)).not.toContain('s3cr3t-token-value');
    const dry = await t.call('runs_change', {});
    await t.call('runs_change', { approval: dry.structured.approval });
    expect(t.audit.records.at(-1)).toMatchObject({
      phase: 'outcome',
      outcome: 'ok',
      details: { exitCode: 0 },
    });
    await t.close();
  });
});
