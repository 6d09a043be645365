import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceFixtures, RED_PIXEL_PNG, SILENT_WAV } from '../src/conformance.js';
import { connect, type TestClient } from '../src/index.js';

// In-process check of the conformance fixture plugin; the official suite runs against the app in
// apps/server/test/conformance.test.ts.
describe('conformance fixture plugin', () => {
  let t: TestClient;
  const notifications: { method: string; params?: any }[] = [];
  beforeAll(async () => {
    t = await connect([conformanceFixtures()]);
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
        'test_embedded_resource',
        'test_error_handling',
        'test_image_content',
        'test_multiple_content_types',
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
});
