import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceFixtures, RED_PIXEL_PNG, SILENT_WAV } from '../src/conformance.js';
import { connect, type TestClient } from '../src/index.js';

// In-process check of the conformance fixture plugin; the official suite runs against the app in
// apps/server/test/conformance.test.ts.
describe('conformance fixture plugin', () => {
  let t: TestClient;
  const notifications: { method: string; params?: any }[] = [];
  beforeAll(async () => {
    t = await connect([conformanceFixtures()], { capabilities: { elicitation: {}, sampling: {} } });
    t.client.fallbackNotificationHandler = async (n) => {
      notifications.push(n as never);
    };
  });
  afterAll(() => t.close());

  it('serves the tool names the server scenarios call', async () => {
    const names = (await t.listTools()).map((x) => x.name).sort();
    expect(names).toEqual(
      [
        'test_audio_content',
        'test_elicitation',
        'test_elicitation_sep1034_defaults',
        'test_elicitation_sep1330_enums',
        'test_embedded_resource',
        'test_error_handling',
        'test_image_content',
        'test_multiple_content_types',
        'test_sampling',
        'test_simple_text',
        'test_tool_with_logging',
        'test_tool_with_progress',
      ].sort(),
    );
  });

  it('returns the expected content blocks', async () => {
    expect((await t.call('test_simple_text')).text).toBe('This is a simple text response for testing.');
    const image = await t.call('test_image_content');
    expect(image.raw.content[1]).toEqual({ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' });
    expect(Buffer.from(RED_PIXEL_PNG, 'base64').subarray(1, 4).toString()).toBe('PNG');
    const audio = await t.call('test_audio_content');
    expect(audio.raw.content[1]).toEqual({ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' });
    expect(Buffer.from(SILENT_WAV, 'base64').subarray(8, 12).toString()).toBe('WAVE');
    const embedded = await t.call('test_embedded_resource');
    expect(embedded.raw.content[1].resource).toEqual({
      uri: 'test://embedded-resource',
      mimeType: 'text/plain',
      text: 'This is an embedded resource content.',
    });
    const mixed = await t.call('test_multiple_content_types');
    expect(mixed.raw.content.map((c: any) => c.type)).toEqual(['text', 'image', 'resource']);
    const err = await t.call('test_error_handling');
    expect(err.isError).toBe(true);
    expect(err.text).toContain('This tool intentionally returns an error for testing');
  });

  it('logs three messages and reports increasing progress', async () => {
    notifications.length = 0;
    await t.call('test_tool_with_logging');
    const logs = notifications.filter((n) => n.method === 'notifications/message').map((n) => n.params.data);
    expect(logs).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed']);
    const progress: number[] = [];
    await t.call('test_tool_with_progress', {}, { onprogress: (p: any) => progress.push(p.progress) });
    expect(progress).toEqual([0, 50, 100]);
  });

  it('serves the fixture resources and template', async () => {
    const uris = (await t.client.listResources()).resources.map((r) => r.uri);
    expect(uris).toEqual(expect.arrayContaining(['test://static-text', 'test://static-binary']));
    expect((await t.client.readResource({ uri: 'test://static-text' })).contents[0]).toEqual({
      uri: 'test://static-text',
      mimeType: 'text/plain',
      text: 'This is the content of the static text resource.',
    });
    expect((await t.client.readResource({ uri: 'test://static-binary' })).contents[0]).toMatchObject({
      mimeType: 'image/png',
      blob: RED_PIXEL_PNG,
    });
    const templates = (await t.client.listResourceTemplates()).resourceTemplates.map((r) => r.uriTemplate);
    expect(templates).toEqual(['test://template/{id}/data']);
    const data = (await t.client.readResource({ uri: 'test://template/123/data' })).contents[0] as {
      text: string;
    };
    expect(JSON.parse(data.text)).toEqual({ id: '123', templateTest: true, data: 'Data for ID: 123' });
  });

  it('serves the fixture prompts', async () => {
    const prompts = (await t.client.listPrompts()).prompts;
    expect(prompts.map((p) => p.name).sort()).toEqual([
      'test_prompt_with_arguments',
      'test_prompt_with_embedded_resource',
      'test_prompt_with_image',
      'test_simple_prompt',
    ]);
    expect(prompts.find((p) => p.name === 'test_prompt_with_arguments')?.arguments).toEqual([
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ]);
    const withArgs = await t.client.getPrompt({
      name: 'test_prompt_with_arguments',
      arguments: { arg1: 'hello', arg2: 'world' },
    });
    expect(withArgs.messages[0]!.content).toEqual({
      type: 'text',
      text: "Prompt with arguments: arg1='hello', arg2='world'",
    });
    const embedded = await t.client.getPrompt({
      name: 'test_prompt_with_embedded_resource',
      arguments: { resourceUri: 'test://x' },
    });
    expect(embedded.messages.map((m) => m.content.type)).toEqual(['resource', 'text']);
    expect((embedded.messages[0]!.content as any).resource.uri).toBe('test://x');
    const image = await t.client.getPrompt({ name: 'test_prompt_with_image' });
    expect(image.messages.map((m) => m.content.type)).toEqual(['image', 'text']);
  });

  it('asks the client through sampling and elicitation, as the scenarios expect', async () => {
    const asked: any[] = [];
    t.onSample((params) => {
      asked.push(params);
      return { role: 'assistant', content: { type: 'text', text: 'a reply' }, model: 'test-model' };
    });
    t.onElicit((request) => {
      asked.push(request);
      return { action: 'accept', content: { username: 'u', email: 'u@example.com' } };
    });
    const sampled = await t.call('test_sampling', { prompt: 'Hello' });
    expect(sampled.text).toBe('LLM response: a reply');
    expect(asked[0]).toEqual({
      messages: [{ role: 'user', content: { type: 'text', text: 'Hello' } }],
      maxTokens: 100,
    });
    const elicited = await t.call('test_elicitation', { message: 'Who?' });
    expect(elicited.text).toBe(
      'User response: action=accept, content={"username":"u","email":"u@example.com"}',
    );
    expect(asked[1]).toMatchObject({ message: 'Who?', requestedSchema: { required: ['username', 'email'] } });

    t.onElicit((request) => {
      asked.push(request);
      return { action: 'decline' };
    });
    expect((await t.call('test_elicitation_sep1034_defaults')).text).toBe(
      'Elicitation completed: action=decline, content={}',
    );
    const defaults = asked[2].requestedSchema.properties;
    expect(
      Object.fromEntries(Object.entries(defaults).map(([k, v]: [string, any]) => [k, v.default])),
    ).toEqual({
      name: 'John Doe',
      age: 30,
      score: 95.5,
      status: 'active',
      verified: true,
    });
    await t.call('test_elicitation_sep1330_enums');
    expect(Object.keys(asked[3].requestedSchema.properties)).toEqual([
      'untitledSingle',
      'titledSingle',
      'legacyEnum',
      'untitledMulti',
      'titledMulti',
    ]);
  });

  it('completes the prompt arguments and the template variable', async () => {
    expect(t.client.getServerCapabilities()?.completions).toEqual({});
    const arg1 = await t.client.complete({
      ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
      argument: { name: 'arg1', value: 'par' },
    });
    expect(arg1.completion).toEqual({ values: ['paris', 'park', 'party'], total: 3, hasMore: false });
    const arg2 = await t.client.complete({
      ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
      argument: { name: 'arg2', value: '' },
      context: { arguments: { arg1: 'paris' } },
    });
    expect(arg2.completion.values).toEqual(['paris-a', 'paris-b']);
    const id = await t.client.complete({
      ref: { type: 'ref/resource', uri: 'test://template/{id}/data' },
      argument: { name: 'id', value: '1' },
    });
    expect(id.completion.values).toEqual(['1', '10', '123']);
  });

  it('fails the elicitation and sampling tools clearly for a client without the capabilities', async () => {
    const bare = await connect([conformanceFixtures()]);
    const r = await bare.call('test_elicitation', { message: 'Who?' });
    expect(r.errorCode).toBe('client_unsupported');
    expect((await bare.call('test_sampling', { prompt: 'x' })).errorCode).toBe('client_unsupported');
    await bare.close();
  });
});
