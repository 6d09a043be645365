import { z } from 'zod';
import { type Backend, definePlugin, defineTool, ToolError } from '../src/index.js';

/** A plugin over a loopback HTTP backend, making every request through core's `Backend`. */
interface Web {
  url: string;
  backend: Backend;
}

async function send(web: Web, method: string, path: string, signal: AbortSignal): Promise<string> {
  const res = await web.backend.request({ method, target: path, signal, status: (r) => r.status }, () =>
    fetch(new URL(path, web.url), { method, signal }),
  );
  const text = await res.text();
  if (!res.ok)
    throw new ToolError('backend_error', `${method} ${path} answered ${res.status}: ${text}`, 'try later');
  return text;
}

const pathArg = z.object({ path: z.string().default('/x').describe('Path on the backend') });

export const web = definePlugin({
  id: 'web',
  title: 'Web',
  description: 'A loopback HTTP backend for tests',
  version: '0.0.0',
  config: z.object({ url: z.string().url().describe('Backend URL') }),
  setup: async (config, { backend }) => ({ url: config.url, backend }) satisfies Web,
  tools: [
    defineTool({
      name: 'get',
      description: 'GET a path',
      input: pathArg,
      output: z.object({ body: z.string() }),
      effect: 'read',
      run: async ({ path }, ctx) => ({
        data: { body: await send(ctx.client as Web, 'GET', path, ctx.signal) },
      }),
    }),
    defineTool({
      name: 'post',
      description: 'POST to a path (a read for the model, but not idempotent on the wire)',
      input: pathArg,
      output: z.object({ body: z.string() }),
      effect: 'read',
      run: async ({ path }, ctx) => ({
        data: { body: await send(ctx.client as Web, 'POST', path, ctx.signal) },
      }),
    }),
    defineTool({
      name: 'labels',
      description: 'GET a discovery path, cached',
      input: pathArg,
      output: z.object({ body: z.string() }),
      effect: 'read',
      run: async ({ path }, ctx) => {
        const w = ctx.client as Web;
        const body = await w.backend.cached(`GET ${path}`, () => send(w, 'GET', path, ctx.signal));
        return { data: { body } };
      },
    }),
  ],
});
