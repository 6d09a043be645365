import { definePlugin, defineTool, ErrorCodes, type ToolContext, ToolError } from '@infra-mcp/core';
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
 * Tool-initiated sampling (`test_sampling`) and elicitation (`test_elicitation*`) use `ctx.sample`
 * and `ctx.elicit`; `test_prompt_with_arguments` and the template `test://template/{id}/data` have
 * completers. Not here, because core cannot express them (see apps/server/test/CONFORMANCE.md):
 * resource subscriptions, and a tool named exactly `json_schema_2020_12_tool` with a hand-written
 * 2020-12 input schema.
 */

/** A valid 1x1 red pixel PNG. */
export const RED_PIXEL_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';
/** A valid WAV file: 8 kHz mono 8-bit PCM, 8 samples of silence. */
export const SILENT_WAV = 'UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==';

const none = z.object({});
const elicited = z.object({
  action: z.enum(['accept', 'decline', 'cancel']),
  content: z.record(z.string(), z.unknown()).optional(),
});

/** The values a completer offers: the candidates that start with what was typed. */
const startingWith = (candidates: string[]) => (value: string) =>
  candidates.filter((c) => c.startsWith(value));

function elicitOrFail(ctx: ToolContext): NonNullable<ToolContext['elicit']> {
  if (!ctx.elicit)
    throw new ToolError(
      ErrorCodes.clientUnsupported,
      'the client did not declare the elicitation capability',
      'use a client that supports elicitation',
    );
  return ctx.elicit;
}

/** Elicit with `schema` and report the answer in the text the scenarios expect. */
async function elicitAndReport(ctx: ToolContext, message: string, schema: object, prefix: string) {
  const answer = await elicitOrFail(ctx)(message, schema);
  const text = `${prefix}: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`;
  return { data: answer, text };
}
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
      name: 'sampling',
      description: "Asks the client's model (sampling/createMessage) and returns its answer",
      input: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
      output: z.object({ model: z.string(), text: z.string() }),
      effect: 'read',
      run: async ({ prompt }, ctx) => {
        if (!ctx.sample)
          throw new ToolError(
            ErrorCodes.clientUnsupported,
            'the client did not declare the sampling capability',
            'use a client that supports sampling',
          );
        const answer = await ctx.sample({
          messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
          maxTokens: 100,
        });
        const text = answer.content.type === 'text' ? answer.content.text : `(${answer.content.type})`;
        return { data: { model: answer.model, text }, text: `LLM response: ${text}` };
      },
    }),
    defineTool({
      name: 'elicitation',
      description: 'Asks the user for a username and an email (elicitation/create)',
      input: z.object({ message: z.string().describe('The message to show the user') }),
      output: elicited,
      effect: 'read',
      run: async ({ message }, ctx) =>
        elicitAndReport(
          ctx,
          message,
          {
            type: 'object',
            properties: {
              username: { type: 'string', description: "User's response" },
              email: { type: 'string', description: "User's email address" },
            },
            required: ['username', 'email'],
          },
          'User response',
        ),
    }),
    defineTool({
      name: 'elicitation_sep1034_defaults',
      description: 'Elicits a form whose fields all have defaults (SEP-1034)',
      input: none,
      output: elicited,
      effect: 'read',
      run: async (_args, ctx) =>
        elicitAndReport(
          ctx,
          'Please review and update the form fields with defaults',
          {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'User name', default: 'John Doe' },
              age: { type: 'integer', description: 'User age', default: 30 },
              score: { type: 'number', description: 'User score', default: 95.5 },
              status: {
                type: 'string',
                description: 'User status',
                enum: ['active', 'inactive', 'pending'],
                default: 'active',
              },
              verified: { type: 'boolean', description: 'Verification status', default: true },
            },
          },
          'Elicitation completed',
        ),
    }),
    defineTool({
      name: 'elicitation_sep1330_enums',
      description: 'Elicits a form with every enum variant (SEP-1330)',
      input: none,
      output: elicited,
      effect: 'read',
      run: async (_args, ctx) =>
        elicitAndReport(
          ctx,
          'Please select options from the enum fields',
          {
            type: 'object',
            properties: {
              untitledSingle: {
                type: 'string',
                description: 'Untitled single-select',
                enum: ['option1', 'option2', 'option3'],
              },
              titledSingle: {
                type: 'string',
                description: 'Titled single-select',
                oneOf: [
                  { const: 'value1', title: 'First Option' },
                  { const: 'value2', title: 'Second Option' },
                  { const: 'value3', title: 'Third Option' },
                ],
              },
              legacyEnum: {
                type: 'string',
                description: 'Legacy titled enum (enumNames, deprecated)',
                enum: ['opt1', 'opt2', 'opt3'],
                enumNames: ['Option One', 'Option Two', 'Option Three'],
              },
              untitledMulti: {
                type: 'array',
                description: 'Untitled multi-select',
                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              },
              titledMulti: {
                type: 'array',
                description: 'Titled multi-select',
                items: {
                  anyOf: [
                    { const: 'value1', title: 'First Choice' },
                    { const: 'value2', title: 'Second Choice' },
                    { const: 'value3', title: 'Third Choice' },
                  ],
                },
              },
            },
          },
          'Elicitation completed',
        ),
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
      complete: { id: startingWith(['1', '2', '3', '10', '42', '123']) },
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
      complete: {
        arg1: startingWith(['paris', 'park', 'party', 'test', 'test-value', 'testing']),
        // the second argument's suggestions depend on the first one
        arg2: (value, { arguments: args }) =>
          startingWith(args?.arg1 ? [`${args.arg1}-a`, `${args.arg1}-b`] : ['a', 'b'])(value),
      },
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
