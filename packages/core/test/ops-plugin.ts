import { z } from 'zod';
import { definePlugin, defineTool, ToolError } from '../src/index.js';

/**
 * A stand-in backend shaped like the plugins to come, to walk their write and long-operation cases
 * through core: a multi-object apply (k8s), a guest stop that takes a while (Proxmox), a plan file
 * (terraform) and a busy log (k8s logs).
 */
export interface Backend {
  objects: Map<string, { spec: string; version: number }>;
  /** Object names whose apply fails. */
  failing: Set<string>;
  plans: number;
  applies: string[][];
  planFiles: Map<string, string>;
  discarded: string[];
  verifies: number;
  guest: { state: 'running' | 'stopping' | 'stopped'; stopAfterChecks: number; checks: number };
  logLines: number;
}

export function newBackend(): Backend {
  return {
    objects: new Map([['cm-1', { spec: 'a', version: 1 }]]),
    failing: new Set(),
    plans: 0,
    applies: [],
    planFiles: new Map(),
    discarded: [],
    verifies: 0,
    guest: { state: 'running', stopAfterChecks: 3, checks: 0 },
    logLines: 10_000,
  };
}

const manifest = z.object({
  objects: z.array(z.object({ name: z.string(), spec: z.string() })).describe('Objects to apply'),
});

export const ops = definePlugin({
  id: 'ops',
  title: 'Ops',
  description: 'Stand-in backend for the write lifecycle',
  version: '0.0.0',
  config: z.object({ backend: z.custom<Backend>().optional() }),
  setup: async (config) => config.backend ?? newBackend(),
  tools: [
    defineTool({
      name: 'apply',
      description: 'Apply objects',
      input: manifest,
      output: z.object({ applied: z.array(z.string()) }),
      effect: 'write',
      idempotent: true,
      plan: async ({ objects }, ctx) => {
        const b = ctx.client as Backend;
        b.plans++;
        const diffs = objects.map((o) => {
          const cur = b.objects.get(o.name);
          return {
            name: o.name,
            action: !cur ? 'create' : cur.spec === o.spec ? 'unchanged' : 'update',
            from: cur?.spec ?? null,
            to: o.spec,
            version: cur?.version ?? 0,
          };
        });
        const created = diffs.filter((d) => d.action === 'create').length;
        return {
          change: diffs,
          preview: { objects: diffs },
          summary: `apply ${objects.length} objects: ${created} created, ${objects.length - created} updated or unchanged`,
          items: diffs.map((d) => ({ text: `${d.action} ${d.name}: ${d.from ?? '-'} -> ${d.to}`, data: d })),
          // the dry-run objects, applied as reviewed
          handle: { diffs },
        };
      },
      verify: async (_args, ctx, plan) => {
        const b = ctx.client as Backend;
        b.verifies++;
        for (const d of (plan.handle as { diffs: { name: string; version: number }[] }).diffs) {
          if ((b.objects.get(d.name)?.version ?? 0) !== d.version)
            throw new ToolError('stale_plan', `${d.name} changed since the dry run`, 'preview again');
        }
      },
      run: async (_args, ctx, plan) => {
        const b = ctx.client as Backend;
        const diffs = (plan!.handle as { diffs: { name: string; to: string }[] }).diffs;
        const applied: string[] = [];
        for (const [i, d] of diffs.entries()) {
          if (b.failing.has(d.name))
            throw new ToolError(
              'apply_failed',
              `object ${i + 1} of ${diffs.length} (${d.name}) was refused by the backend`,
              'fix that object and preview again; the objects before it are applied',
              { applied, failed: d.name, notAttempted: diffs.slice(i + 1).map((x) => x.name) },
            );
          const cur = b.objects.get(d.name);
          b.objects.set(d.name, { spec: d.to, version: (cur?.version ?? 0) + 1 });
          applied.push(d.name);
        }
        b.applies.push(applied);
        return { data: { applied } };
      },
    }),
    defineTool({
      name: 'stop',
      description: 'Stop the guest, waiting for it',
      input: z.object({ vmid: z.number().int() }),
      output: z.object({ state: z.string() }),
      effect: 'destructive',
      plan: async ({ vmid }, ctx) => {
        const b = ctx.client as Backend;
        return { change: { vmid, from: b.guest.state }, preview: { vmid, state: b.guest.state } };
      },
      run: async ({ vmid }, ctx) => {
        const b = ctx.client as Backend;
        b.guest.state = 'stopping';
        const state = await ctx.poll(
          async () => {
            b.guest.checks++;
            if (b.guest.checks >= b.guest.stopAfterChecks) {
              b.guest.state = 'stopped';
              return { done: true, value: b.guest.state };
            }
            return { done: false, message: `waiting for guest ${vmid} to shut down`, status: b.guest.state };
          },
          {
            intervalMs: 20,
            operation: { id: `UPID:node1:stop:${vmid}`, poll: { tool: 'ops_task', arguments: { vmid } } },
          },
        );
        return { data: { state } };
      },
    }),
    defineTool({
      name: 'terraform_apply',
      description: 'Apply a reviewed plan file',
      input: z.object({ dir: z.string() }),
      output: z.object({ applied: z.string() }),
      effect: 'write',
      plan: async ({ dir }, ctx) => {
        const b = ctx.client as Backend;
        b.plans++;
        const file = `${dir}/plan-${b.plans}.tfplan`;
        b.planFiles.set(file, `plan of ${dir}`);
        return { change: { dir, content: `plan of ${dir}` }, preview: { file: 'held' }, handle: file };
      },
      discard: function (this: void, file: string) {
        // the test reads which files were removed through the shared backend registry
        discardHook?.(file);
      },
      run: async (_args, ctx, plan) => {
        const b = ctx.client as Backend;
        const file = plan!.handle as string;
        if (!b.planFiles.has(file)) throw new ToolError('plan_missing', `${file} is gone`, 'preview again');
        return { data: { applied: file } };
      },
    }),
    defineTool({
      name: 'logs',
      description: 'Tail a busy log',
      input: z.object({ slowAfter: z.number().int().default(100) }),
      output: z.object({ lines: z.array(z.string()), partial: z.boolean() }),
      effect: 'read',
      run: async ({ slowAfter }, ctx) => {
        const b = ctx.client as Backend;
        const lines: string[] = [];
        for (let i = 0; i < b.logLines; i++) {
          if (Date.now() >= ctx.deadline)
            return {
              data: { lines: lines.slice(-5), partial: true },
              partial: `the deadline passed after ${lines.length} lines; the newest are shown`,
            };
          lines.push(`line ${i}`);
          if (i >= slowAfter) await new Promise((r) => setTimeout(r, 5));
        }
        return { data: { lines: lines.slice(-5), partial: false } };
      },
    }),
    defineTool({
      name: 'flaky_plan',
      description: 'A write whose plan is not deterministic',
      input: z.object({}),
      output: z.object({}),
      effect: 'write',
      plan: async () => ({ change: { at: Math.random() }, preview: {} }),
      run: async () => ({ data: {} }),
    }),
  ],
});

let discardHook: ((file: string) => void) | undefined;
export function onDiscard(hook: ((file: string) => void) | undefined): void {
  discardHook = hook;
}
