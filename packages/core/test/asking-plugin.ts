import { z } from 'zod';
import { definePlugin, defineTool, ErrorCodes, secret, ToolError } from '../src/index.js';

/** A tool schema a form can fill: a name and a count. */
export const FORM = {
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Your name' },
    count: { type: 'integer', minimum: 1, default: 1 },
  },
  required: ['name'],
};

const answer = z.object({
  action: z.enum(['accept', 'decline', 'cancel']),
  content: z.record(z.string(), z.unknown()).optional(),
});

/**
 * Tools that ask the client: elicitation (`ctx.elicit`) and sampling (`ctx.sample`), and one that
 * reports which of the two its context offers.
 */
export const asking = definePlugin({
  id: 'ask',
  title: 'Asking',
  description: 'Tools that ask the client (tests)',
  version: '0.0.0',
  config: z.object({ token: secret(z.string().default('s3cr3t-value')) }),
  setup: async () => ({}),
  tools: [
    defineTool({
      name: 'offers',
      description: 'Which client requests the context offers',
      input: z.object({}),
      output: z.object({ elicit: z.boolean(), sample: z.boolean() }),
      effect: 'read',
      run: async (_args, ctx) => ({ data: { elicit: 'elicit' in ctx, sample: 'sample' in ctx } }),
    }),
    defineTool({
      name: 'form',
      description: 'Asks the user to fill a form',
      input: z.object({ message: z.string() }),
      output: answer,
      effect: 'read',
      run: async ({ message }, ctx) => {
        if (!ctx.elicit) throw new ToolError(ErrorCodes.clientUnsupported, 'no elicitation');
        return { data: await ctx.elicit(message, FORM) };
      },
    }),
    defineTool({
      name: 'slow_form',
      description: 'Asks the user, with a short timeout',
      input: z.object({ message: z.string() }),
      output: answer,
      effect: 'read',
      timeoutMs: 300,
      run: async ({ message }, ctx) => ({ data: await ctx.elicit!(message, FORM) }),
    }),
    defineTool({
      name: 'summarise',
      description: "Asks the user for a topic, then the client's model for a summary of it",
      input: z.object({}),
      output: z.object({ topic: z.string(), summary: z.string(), model: z.string() }),
      effect: 'read',
      run: async (_args, ctx) => {
        const form = await ctx.elicit!('Which topic?', {
          type: 'object',
          properties: { topic: { type: 'string' } },
          required: ['topic'],
        });
        if (form.action !== 'accept') throw new ToolError('declined', 'the user declined');
        const topic = String(form.content!.topic);
        const out = await ctx.sample!({
          messages: [{ role: 'user', content: { type: 'text', text: `Summarise ${topic}` } }],
          maxTokens: 50,
          systemPrompt: 'Be brief.',
        });
        const summary = out.content.type === 'text' ? out.content.text : '';
        return { data: { topic, summary, model: out.model }, text: `${topic}: ${summary}` };
      },
    }),
    defineTool({
      name: 'leaky',
      description: 'Asks with a message and a sampling prompt that carry the configured secret',
      input: z.object({ sample: z.boolean().default(false) }),
      output: z.object({ ok: z.boolean() }),
      effect: 'read',
      run: async ({ sample }, ctx) => {
        if (sample)
          await ctx.sample!({
            messages: [{ role: 'user', content: { type: 'text', text: 'token s3cr3t-value here' } }],
            maxTokens: 5,
          });
        else await ctx.elicit!('connect with Authorization: Bearer abcdefghijklmnop0123?', FORM);
        return { data: { ok: true } };
      },
    }),
  ],
});
