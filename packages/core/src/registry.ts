import { z } from 'zod';
import { maxBytesArg } from './args.js';
import type { Effect, PromptDefinition, ResourceDefinition, ToolDefinition } from './plugin.js';
import { isListed, type Policy } from './policy.js';
import type { PluginRuntime } from './runtime.js';

export const MAX_TOOL_NAME = 64;
const FULL_NAME = /^[a-z0-9_]{1,64}$/;

/** A tool as served: full name, its plugin, the argument schema core validates, and the JSON Schemas (computed once). */
export interface RegisteredTool {
  name: string;
  runtime: PluginRuntime;
  def: ToolDefinition;
  effect: Effect;
  /** Validates arguments: the tool's input plus core's `instance`/`approval`. */
  args: z.ZodObject;
  /** The entry returned by tools/list (precomputed). */
  listing: {
    name: string;
    title?: string;
    description: string;
    inputSchema: Record<string, unknown>;
    outputSchema?: Record<string, unknown>;
    annotations: Record<string, unknown>;
  };
}

export interface RegisteredResource {
  runtime: PluginRuntime;
  def: ResourceDefinition;
  uri?: string;
  template?: RegExp;
  templateVars: string[];
}

export interface RegisteredPrompt {
  name: string;
  runtime: PluginRuntime;
  def: PromptDefinition;
}

export interface Registry {
  tools: Map<string, RegisteredTool>;
  /** Tools hidden by policy (read-only, deny, allow) — refused with a reason if called. */
  hidden: Map<string, RegisteredTool>;
  resources: RegisteredResource[];
  prompts: Map<string, RegisteredPrompt>;
  runtimes: PluginRuntime[];
  /** tools/list result, computed once. */
  toolList: RegisteredTool['listing'][];
  /** Some prompt or resource template has completers: the server declares `completions`. */
  completions: boolean;
}

/** Completer keys must name declared arguments / template variables (a typo is a compose-time error). */
function checkCompleters(
  what: string,
  complete: Record<string, unknown> | undefined,
  known: string[],
): number {
  const keys = Object.keys(complete ?? {});
  for (const key of keys) {
    if (!known.includes(key))
      throw new Error(
        `${what} has a completer for "${key}", which is not one of its ${known.length ? `arguments (${known.join(', ')})` : 'arguments (it has none)'}`,
      );
  }
  return keys.length;
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return compact(rest, io) as Record<string, unknown>;
}

/**
 * tools/list is paid for on every session: drop what says nothing to a client. Record keys are
 * always strings in JSON; outputs are ours, so closing them (`additionalProperties: false`) adds nothing.
 */
function compact(node: unknown, io: 'input' | 'output'): unknown {
  if (Array.isArray(node)) return node.map((n) => compact(n, io));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const stringKeys =
      key === 'propertyNames' &&
      (value as { type?: string })?.type === 'string' &&
      Object.keys(value as object).length === 1;
    if (stringKeys || (io === 'output' && key === 'additionalProperties' && value === false)) continue;
    out[key] = compact(value, io);
  }
  return out;
}

/** Output schema of a write tool: a dry run returns a preview and an approval token; an approved call returns the result. */
function writeOutput(def: ToolDefinition): z.ZodObject {
  return z.object({
    dryRun: z.boolean(),
    approval: z.string().optional(),
    expiresAt: z.string().optional(),
    summary: z.string().optional(),
    preview: (def.preview ?? z.unknown()).optional(),
    previewPage: previewPageSchema.optional(),
    result: def.output.optional(),
    operation: operationSchema.optional(),
  });
}

/** A page of a preview too long for the budget (the approval token still covers the whole change). */
const previewPageSchema = z.object({
  offset: z.number(),
  total: z.number(),
  items: z.array(z.unknown()),
  more: z.number(),
  cursor: z.string().optional(),
});

/** An approved change still running when the call's time ran out, and how to poll it. */
const operationSchema = z.object({
  id: z.string(),
  status: z.literal('running'),
  poll: z.object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) }),
  message: z.string().optional(),
  progress: z.number().optional(),
  total: z.number().optional(),
  waitedSeconds: z.number(),
});

function annotations(def: ToolDefinition): Record<string, unknown> {
  return {
    readOnlyHint: def.effect === 'read',
    destructiveHint: def.effect === 'destructive',
    idempotentHint: def.idempotent ?? def.effect === 'read',
    openWorldHint: true,
  };
}

/** Build the registry once at start. Name collisions are errors naming both sources. */
export function buildRegistry(runtimes: PluginRuntime[], policy: Policy): Registry {
  const tools = new Map<string, RegisteredTool>();
  const hidden = new Map<string, RegisteredTool>();
  const prompts = new Map<string, RegisteredPrompt>();
  const resources: RegisteredResource[] = [];
  const seen = new Map<string, string>();
  const seenPlugins = new Map<string, string>();
  let completers = 0;

  for (const runtime of runtimes) {
    const { plugin } = runtime;
    if (seenPlugins.has(plugin.id)) {
      throw new Error(
        `two plugins use the id "${plugin.id}" (${seenPlugins.get(plugin.id)} and ${plugin.title}); give one of them another id`,
      );
    }
    seenPlugins.set(plugin.id, plugin.title);
    const prefix = plugin.id.replace(/-/g, '_');
    for (const def of plugin.tools) {
      const name = `${prefix}_${def.name}`;
      if (!FULL_NAME.test(name)) {
        throw new Error(
          `tool name "${name}" (plugin ${plugin.id}) must be at most ${MAX_TOOL_NAME} characters of [a-z0-9_]`,
        );
      }
      const source = `plugin ${plugin.id} tool ${def.name}`;
      if (seen.has(name))
        throw new Error(`tool name collision: "${name}" is defined by ${seen.get(name)} and by ${source}`);
      seen.set(name, source);

      const extra: Record<string, z.ZodType> = {};
      if (plugin.instances && runtime.instanceNames.length > 1) {
        extra.instance = z
          .enum(runtime.instanceNames as [string, ...string[]])
          .optional()
          .describe(`Backend instance (default ${runtime.defaultInstance})`);
      }
      if (def.effect !== 'read') {
        for (const reserved of ['approval', 'cursor'])
          if (reserved in def.input.shape)
            throw new Error(
              `tool "${name}" (plugin ${plugin.id}) defines the argument "${reserved}", which core adds to every write tool; rename it`,
            );
        extra.approval = z
          .string()
          .optional()
          .describe('Approval token from the dry run; omit to preview the change');
        extra.cursor = z.string().optional().describe('Next page of a long preview (from the dry run)');
        if (!('maxBytes' in def.input.shape)) extra.maxBytes = maxBytesArg;
      }
      const args = def.input.extend(extra).strict();
      const output = def.effect === 'read' ? def.output : writeOutput(def);
      const listing: RegisteredTool['listing'] = {
        name,
        ...(def.title ? { title: def.title } : {}),
        description:
          def.effect === 'read'
            ? def.description
            : `${def.description.replace(/\.?$/, '.')} Dry run unless approved.`,
        inputSchema: jsonSchema(args, 'input'),
        outputSchema: jsonSchema(output, 'output'),
        annotations: annotations(def),
      };
      const entry: RegisteredTool = { name, runtime, def, effect: def.effect, args, listing };
      const instances = def.availableFor
        ? runtime.instanceNames.filter((i) => def.availableFor!(runtime.config.instances[i]))
        : runtime.instanceNames;
      if (instances.length === 0) continue; // nothing configured that this tool can serve
      if (isListed(policy, name, def.effect, plugin.id, instances)) tools.set(name, entry);
      else hidden.set(name, entry);
    }
    for (const def of plugin.resources ?? []) {
      const templateVars = [...(def.template ?? '').matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      const template = def.template
        ? new RegExp(`^${def.template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '([^/]+)')}$`)
        : undefined;
      completers += checkCompleters(
        `resource "${def.name}" (plugin ${plugin.id})`,
        def.complete,
        templateVars,
      );
      resources.push({ runtime, def, uri: def.uri, template, templateVars });
    }
    for (const def of plugin.prompts ?? []) {
      const name = `${prefix}_${def.name}`;
      if (prompts.has(name)) throw new Error(`prompt name collision: "${name}"`);
      completers += checkCompleters(`prompt "${name}"`, def.complete, Object.keys(def.args?.shape ?? {}));
      prompts.set(name, { name, runtime, def });
    }
  }
  return {
    tools,
    hidden,
    resources,
    prompts,
    runtimes,
    toolList: [...tools.values()].map((t) => t.listing),
    completions: completers > 0,
  };
}
