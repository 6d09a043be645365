import { connect } from '@infra-mcp/testing';
import { describe, expect, it } from 'vitest';
import { kv } from './fixture-plugin.js';

describe('tools/call', () => {
  it('returns structuredContent plus a compact text rendering', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const r = await t.call('kv_get', { key: 'a' });
    expect(r).toMatchObject({ isError: false, structured: { key: 'a', value: '1' } });
    expect(r.text).toBe('key: a\nvalue: 1');
    await t.close();
  });

  it('reports arguments of the wrong type as an isError result naming the argument', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const r = await t.call('kv_get', { key: 42 });
    expect(r.isError).toBe(true);
    expect(r.errorCode).toBe('invalid_arguments');
    expect(r.text).toMatch(/key: Invalid input: expected string, received number/);
    expect(r.text).toMatch(/hint:/);
    const extra = await t.call('kv_get', { key: 'a', colour: 'red' });
    expect(extra.text).toMatch(/unknown argument colour/);
    expect(t.audit.records.map((x) => x.outcome)).toEqual(['error', 'error']);
    await t.close();
  });

  it('keeps an unknown tool a JSON-RPC error, and still audits it', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    await expect(t.call('kv_nope', {})).rejects.toMatchObject({
      code: -32602,
      message: expect.stringMatching(/Unknown tool: kv_nope/),
    });
    expect(t.audit.records).toHaveLength(1);
    expect(t.audit.records[0]).toMatchObject({
      tool: 'kv_nope',
      outcome: 'denied',
      errorCode: 'unknown_tool',
    });
    await t.close();
  });

  it('passes a tool error code and hint through', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const r = await t.call('kv_get', { key: 'fail' });
    expect(r).toMatchObject({ isError: true, errorCode: 'no_such_key' });
    expect(r.text).toBe('error [no_such_key]: key "fail" cannot be read\nhint: use another key');
    await t.close();
  });

  it('never lets secrets or stack traces out of a backend error', async () => {
    const t = await connect([kv({ url: 'http://kv.local', password: 'hunter22' })]);
    const r = await t.call('kv_get', { key: 'leak' });
    expect(r.errorCode).toBe('backend_error');
    expect(r.text).not.toMatch(/hunter22|abcdefghijklmnop|at .*\.ts/);
    expect(r.text).toMatch(/Bearer \[REDACTED\]/);
    await t.close();
  });

  it('reports a failed setup without the configured password', async () => {
    const t = await connect([kv({ url: 'http://broken.local', password: 'hunter22' })]);
    const r = await t.call('kv_get', { key: 'a' });
    expect(r.errorCode).toBe('not_configured');
    expect(r.text).toMatch(/cannot reach http:\/\/broken.local/);
    expect(r.text).not.toMatch(/hunter22/);
    await t.close();
  });

  it('times out a slow backend call with a clear error', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })], { timeoutMs: 100 });
    const started = Date.now();
    const r = await t.call('kv_get', { key: 'slow' });
    expect(r.errorCode).toBe('timeout');
    expect(r.text).toMatch(/did not answer within 100 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
    await t.close();
  });

  it('aborts the backend call when the client cancels', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    const controller = new AbortController();
    const pending = t.call('kv_get', { key: 'slow' }, { signal: controller.signal });
    setTimeout(() => controller.abort('user cancelled'), 50);
    await expect(pending).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    expect(t.audit.records.at(-1)).toMatchObject({
      tool: 'kv_get',
      outcome: 'error',
      errorCode: 'cancelled',
    });
    await t.close();
  });

  it('cuts text over the byte budget with an explicit notice', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })], { maxBytes: 300 });
    const r = await t.call('kv_get', { key: 'lines' });
    expect(r.isError).toBe(false);
    expect(Buffer.byteLength(r.text)).toBeLessThanOrEqual(300);
    expect(r.text).toMatch(/^line 0\nline 1\n/);
    expect(r.text).toMatch(/truncated: \d+ more lines; narrow with/);
    await t.close();
  });

  it('refuses structured answers over the budget instead of flooding the context', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })], { maxBytes: 300 });
    const store = (await t.server.registry.runtimes[0]!.client('default')) as { values: Map<string, string> };
    store.values.set('k', 'x'.repeat(400));
    const r = await t.call('kv_get', { key: 'k' });
    expect(r.errorCode).toBe('over_budget');
    expect(r.text).toMatch(/over the 300-byte budget/);
    await t.close();
  });

  it('sends tool logs to the client scrubbed of secrets, at the level the client chose', async () => {
    const t = await connect([kv({ url: 'http://kv.local', password: 'hunter22' })]);
    const { LoggingMessageNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    const seen: any[] = [];
    t.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      seen.push(n.params);
    });
    await t.client.setLoggingLevel('critical');
    await t.call('kv_get', { key: 'log' });
    expect(seen).toEqual([]);
    await t.client.setLoggingLevel('info');
    await t.call('kv_get', { key: 'log' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ level: 'info', logger: 'kv' });
    expect(JSON.stringify(seen)).not.toMatch(/hunter22|pw12345/);
    await t.close();
  });

  it('records one audit entry per call with redacted arguments', async () => {
    const t = await connect([kv({ url: 'http://kv.local' })]);
    await t.call('kv_get', { key: 'password=abc https://u:secretpw@host/x' });
    const [rec] = t.audit.records;
    expect(rec).toMatchObject({
      tool: 'kv_get',
      instance: 'default',
      effect: 'read',
      dryRun: false,
      outcome: 'ok',
    });
    expect(JSON.stringify(rec!.args)).not.toMatch(/secretpw/);
    expect(rec!.resultBytes).toBeGreaterThan(0);
    await t.close();
  });
});
