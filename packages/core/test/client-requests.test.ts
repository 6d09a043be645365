import { connect } from '@infra-mcp/testing';
import {
  CancelledNotificationSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { asking, FORM } from './asking-plugin.js';

// Tool-initiated elicitation (ctx.elicit) and sampling (ctx.sample) over a session transport
// (in memory, like stdio): offered exactly when the client declared the capability.
describe('ctx.elicit and ctx.sample', () => {
  it('are absent when the client declared neither capability', async () => {
    const t = await connect([asking()]);
    expect((await t.call('ask_offers')).structured).toEqual({ elicit: false, sample: false });
    await t.close();
  });

  it('follow the declared capabilities (form elicitation; url-only elicitation does not count)', async () => {
    const both = await connect([asking()], { capabilities: { elicitation: {}, sampling: {} } });
    expect((await both.call('ask_offers')).structured).toEqual({ elicit: true, sample: true });
    await both.close();
    const sampling = await connect([asking()], { capabilities: { sampling: {} } });
    expect((await sampling.call('ask_offers')).structured).toEqual({ elicit: false, sample: true });
    await sampling.close();
    const urlOnly = await connect([asking()], { capabilities: { elicitation: { url: {} } } });
    expect((await urlOnly.call('ask_offers')).structured).toEqual({ elicit: false, sample: false });
    await urlOnly.close();
  });

  it('elicit sends elicitation/create with the message and schema and returns the answer', async () => {
    const t = await connect([asking()], { capabilities: { elicitation: {} } });
    const seen: any[] = [];
    let reply: any = { action: 'accept', content: { name: 'Ada', count: 3 } };
    t.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      seen.push(req.params);
      return reply;
    });
    const accepted = await t.call('ask_form', { message: 'Who are you?' });
    expect(accepted.structured).toEqual({ action: 'accept', content: { name: 'Ada', count: 3 } });
    expect(seen[0]).toMatchObject({ message: 'Who are you?', requestedSchema: FORM });
    reply = { action: 'decline' };
    expect((await t.call('ask_form', { message: 'again?' })).structured).toEqual({ action: 'decline' });
    reply = { action: 'cancel' };
    expect((await t.call('ask_form', { message: 'again?' })).structured).toEqual({ action: 'cancel' });
    await t.close();
  });

  it('refuses accepted content that does not match the requested schema', async () => {
    const t = await connect([asking()], { capabilities: { elicitation: {} } });
    t.client.setRequestHandler(ElicitRequestSchema, async () => ({
      action: 'accept',
      content: { count: 0 }, // no name, count below its minimum
    }));
    const r = await t.call('ask_form', { message: 'Who are you?' });
    expect(r.errorCode).toBe('invalid_client_answer');
    expect(r.text).toMatch(/does not match the requested schema: .*name/);
    await t.close();
  });

  it('sample sends sampling/createMessage and returns the model answer', async () => {
    // the harness's elicit/sample options declare the capabilities and answer
    const sampled: any[] = [];
    const t = await connect([asking()], {
      elicit: () => ({ action: 'accept', content: { topic: 'TSDB compaction' } }),
      sample: (params) => {
        sampled.push(params);
        return {
          role: 'assistant',
          content: { type: 'text', text: 'it merges blocks' },
          model: 'test-model',
          stopReason: 'endTurn',
        };
      },
    });
    const r = await t.call('ask_summarise');
    expect(r.structured).toEqual({
      topic: 'TSDB compaction',
      summary: 'it merges blocks',
      model: 'test-model',
    });
    expect(sampled).toEqual([
      {
        messages: [{ role: 'user', content: { type: 'text', text: 'Summarise TSDB compaction' } }],
        maxTokens: 50,
        systemPrompt: 'Be brief.',
      },
    ]);
    await t.close();
  });

  it('scrubs credentials and configured secrets from what goes to the client', async () => {
    const t = await connect([asking()], { capabilities: { elicitation: {}, sampling: {} } });
    const sent: string[] = [];
    t.client.setRequestHandler(ElicitRequestSchema, async (req) => {
      sent.push(req.params.message);
      return { action: 'decline' };
    });
    t.client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      sent.push((req.params.messages[0]!.content as { text: string }).text);
      return { role: 'assistant', content: { type: 'text', text: 'ok' }, model: 'm' };
    });
    expect((await t.call('ask_leaky')).isError).toBe(false);
    expect((await t.call('ask_leaky', { sample: true })).isError).toBe(false);
    expect(sent).toEqual(['connect with Authorization: Bearer [REDACTED]?', 'token [REDACTED] here']);
    await t.close();
  });

  it("counts the user's time against the tool's timeout and cancels the request at the timeout", async () => {
    const t = await connect([asking()], { capabilities: { elicitation: {} } });
    const cancelled: unknown[] = [];
    t.client.setNotificationHandler(CancelledNotificationSchema, async (n) => {
      cancelled.push(n.params.requestId);
    });
    let asked: unknown;
    t.client.setRequestHandler(ElicitRequestSchema, (_req, extra) => {
      asked = extra.requestId;
      return new Promise(() => {}); // the user never answers
    });
    const r = await t.call('ask_slow_form', { message: 'anyone?' });
    expect(r.errorCode).toBe('timeout');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(cancelled).toEqual([asked]);
    await t.close();
  });

  it('a client that declared elicitation but has no handler fails the call with client_unsupported', async () => {
    // the SDK client answers "method not found" for a request it has no handler for
    const t = await connect([asking()], { capabilities: { elicitation: {} } });
    const r = await t.call('ask_form', { message: 'hello?' });
    expect(r.errorCode).toBe('client_unsupported');
    expect(r.text).toMatch(
      /does not support elicitation \(it answered elicitation\/create with: .*Method not found/,
    );
    await t.close();
  });
});
