import { definePlugin, defineTool } from '@infra-mcp/core';
import { z } from 'zod';

/**
 * The fixture tools, resources and prompts that the server scenarios of
 * `@modelcontextprotocol/conformance` (0.2.0 alpha line, 2025-11-25 requirement set) call by name.
 *
 * Test-only: load it with `infra-mcp --plugin-module @infra-mcp/testing/conformance` (or the path of
 * `dist/conformance.js`). It is never enabled by default. Plugin id `test`, so `simple_text` is served
 * as `test_simple_text`, `simple_prompt` as `test_simple_prompt`; resources use the exact `test://`
 * URIs the scenarios read.
 *
 * Not here, because core has no way to express them (see apps/server/test/CONFORMANCE.md):
 * tool-initiated sampling (`test_sampling`) and elicitation (`test_elicitation*`), resource
 * subscriptions, completions, and a hand-written 2020-12 input schema (`json_schema_2020_12_tool`).
 */

/** A valid 1x1 red pixel PNG. */
export const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
/** A valid WAV file: 8 kHz mono 8-bit PCM, 8 samples of silence. */
export const SILENT_WAV = 'UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==';

const none = z.object({});
const message = z.object({ message: z.string() });
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export const conformanceFixtures = definePlugin({
  id: 'test',
  title: 'Conformance fixtures',
  description: 'Fixture tools, resources and prompts for the MCP conformance suite (tests only)',
  version: '0.0.0',
  config: z.object({}),
  setup: async () => ({}),
  tools: [
    defineTool({
      name: 'simple_text',
      description: 'Returns a simple text response',
      input: none,
      output: message,
      effect: 'read',
      run: async () => {
        const text = 'This is a simple text response for testing.';
        return { data: { message: text }, text };
      },
    }),
    defineTool({
      name: 'image_content',
      description: 'Returns a 1x1 PNG image',
      input: none,
      output: z.object({ mimeType: z.string() }),
      effect: 'read',
      run: async () => ({
        data: { mimeType: 'image/png' },
        text: 'A 1x1 red pixel PNG image.',
        content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }],
      }),
    }),
    defineTool({
      name: 'audio_content',
      description: 'Returns a short WAV audio clip',
      input: none,
      output: z.object({ mimeType: z.string() }),
      effect: 'read',
      run: async () => ({
        data: { mimeType: 'audio/wav' },
        text: 'A short silent WAV clip.',
        content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }],
      }),
    }),
    defineTool({
      name: 'embedded_resource',
      description: 'Returns an embedded text resource',
      input: none,
      output: z.object({ uri: z.string() }),
      effect: 'read',
      run: async () => ({
        data: { uri: 'test://embedded-resource' },
        text: 'An embedded resource follows.',
        content: [
          {
            type: 'resource',
            resource: {
              uri: 'test://embedded-resource',
              mimeType: 'text/plain',
              text: 'This is an embedded resource content.',
            },
          },
        ],
      }),
    }),
    defineTool({
      name: 'multiple_content_types',
      description: 'Returns text, an image and an embedded resource',
      input: none,
      output: z.object({ items: z.number() }),
      effect: 'read',
      run: async () => ({
        data: { items: 3 },
        text: 'Multiple content types test:',
        content: [
          { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
          {
            type: 'resource',
            resource: {
              uri: 'test://mixed-content-resource',
              mimeType: 'application/json',
              text: JSON.stringify({ test: 'data', value: 123 }),
            },
          },
        ],
      }),
    }),
    defineTool({
      name: 'tool_with_logging',
      description: 'Sends three info log notifications while it runs',
      input: none,
      output: message,
      effect: 'read',
      run: async (_args, ctx) => {
        ctx.log.info('Tool execution started');
        await sleep(50, ctx.signal);
        ctx.log.info('Tool processing data');
        await sleep(50, ctx.signal);
        ctx.log.info('Tool execution completed');
        return {
          data: { message: 'Tool with logging executed successfully' },
          text: 'Tool with logging executed successfully',
        };
      },
    }),
    defineTool({
      name: 'tool_with_progress',
      description: 'Reports progress 0, 50 and 100 of 100 while it runs',
      input: none,
      output: message,
      effect: 'read',
      run: async (_args, ctx) => {
        await ctx.progress(0, 100);
        await sleep(50, ctx.signal);
        await ctx.progress(50, 100);
        await sleep(50, ctx.signal);
        await ctx.progress(100, 100);
        return {
          data: { message: 'Tool with progress executed successfully' },
          text: 'Tool with progress executed successfully',
        };
      },
    }),
    defineTool({
      name: 'error_handling',
      description: 'Always fails (returns an isError result)',
      input: none,
      output: message,
      effect: 'read',
      run: async () => {
        throw new Error('This tool intentionally returns an error for testing');
      },
    }),
  ],
  resources: [
    {
      name: 'static_text',
      uri: 'test://static-text',
      description: 'A static text resource',
      mimeType: 'text/plain',
      read: async () => [{ text: 'This is the content of the static text resource.' }],
    },
    {
      name: 'static_binary',
      uri: 'test://static-binary',
      description: 'A static binary resource (1x1 PNG)',
      mimeType: 'image/png',
      read: async () => [{ blob: RED_PIXEL_PNG }],
    },
    {
      name: 'watched_resource',
      uri: 'test://watched-resource',
      description: 'A resource the subscription scenarios watch',
      mimeType: 'text/plain',
      read: async () => [{ text: 'Watched resource content' }],
    },
    {
      name: 'template',
      template: 'test://template/{id}/data',
      description: 'A resource template with one parameter',
      mimeType: 'application/json',
      read: async (_uri, vars) => [
        { text: JSON.stringify({ id: vars.id, templateTest: true, data: `Data for ID: ${vars.id}` }) },
      ],
    },
  ],
  prompts: [
    {
      name: 'simple_prompt',
      description: 'A simple prompt without arguments',
      render: () => [{ role: 'user', text: 'This is a simple prompt for testing.' }],
    },
    {
      name: 'prompt_with_arguments',
      description: 'A prompt with two required arguments',
      args: z.object({
        arg1: z.string().describe('First test argument'),
        arg2: z.string().describe('Second test argument'),
      }),
      render: ({ arg1, arg2 }) => [
        { role: 'user', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
      ],
    },
    {
      name: 'prompt_with_embedded_resource',
      description: 'A prompt that embeds a resource',
      args: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
      render: ({ resourceUri }) => [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: {
              uri: resourceUri,
              mimeType: 'text/plain',
              text: 'Embedded resource content for testing.',
            },
          },
        },
        { role: 'user', text: 'Please process the embedded resource above.' },
      ],
    },
    {
      name: 'prompt_with_image',
      description: 'A prompt that includes an image',
      render: () => [
        { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
        { role: 'user', text: 'Please analyze the image above.' },
      ],
    },
  ],
});
