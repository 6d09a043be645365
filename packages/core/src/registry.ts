import { z } from 'zod';
import { maxBytesArg } from './args.js';
import type { Effect, Plugin, PromptDefinition, ResourceDefinition, ToolDefinition } from './plugin.js';
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
  /** Per plugin id: the toolsets listed (tools of the others are callable but not listed). */
  toolsets: Record<string, string[]>;
  /** Tools in `hidden` only because their toolset is not chosen (callable; `infra-mcp tools` may say so). */
  unlisted: Set<string>;
}

/** What the server chooses beyond policy. */
export interface RegistryOptions {
  /**
   * Toolsets to list, for every plugin (`--toolsets`, the server option): names (`query`), names
   * for one plugin (`prometheus/status`), or `all`. Names no plugin has are an error. Overrides
   * each plugin's config (`plugins.<id>.toolsets`); unset: config, else the plugin's defaults.
   */
  toolsets?: readonly string[];
}

/**
 * The toolsets of `plugin` to list. `requested` from the server option (applies to every plugin,
 * `plugin/name` entries to one) wins over `configured` (`plugins.<id>.toolsets`); neither: the
 * plugin's defaults. Plugins without toolsets list every tool (`[]` is returned then).
 */
export function selectToolsets(
  plugin: Pick<Plugin, 'id' | 'toolsets'>,
  configured: readonly string[] | undefined,
  requested?: readonly string[],
): string[] {
  const known = Object.keys(plugin.toolsets ?? {});
  if (known.length === 0) return [];
  const fromServer: string[] = [];
  for (const r of requested ?? []) {
    const slash = r.indexOf('/');
    const name = slash < 0 ? r : r.slice(0, slash) === plugin.id ? r.slice(slash + 1) : undefined;
    // a plain name this plugin does not have is another plugin's
    if (name !== undefined && (slash >= 0 || name === 'all' || name === 'default' || known.includes(name)))
      fromServer.push(name);
  }
  let names = fromServer.length ? fromServer : undefined;
  if (!names && configured) {
    names = [...configured];
    for (const n of names) {
      if (n !== 'all' && n !== 'default' && !known.includes(n))
        throw new Error(
          `plugins.${plugin.id}.toolsets: unknown toolset "${n}"; ${plugin.id} has ${known.join(', ')} (or all, default)`,
        );
    }
  }
  const defaults = known.filter((k) => plugin.toolsets![k]!.default);
  const out = new Set<string>();
  for (const n of names ?? ['default']) {
    if (n === 'all') for (const k of known) out.add(k);
    else if (n === 'default') for (const k of defaults) out.add(k);
    else out.add(n);
  }
  return known.filter((k) => out.has(k));
}

/** Requested toolset names no plugin has (a typo in `--toolsets` is an error at start). */
function unknownToolsets(plugins: Pick<Plugin, 'id' | 'toolsets'>[], requested: readonly string[]): string[] {
  return requested.filter((r) => {
    if (r === 'all' || r === 'default') return false;
    const slash = r.indexOf('/');
    const [id, name] = slash < 0 ? [undefined, r] : [r.slice(0, slash), r.slice(slash + 1)];
    return !plugins.some(
      (p) =>
        (id === undefined || p.id === id) &&
        (name === 'all' || name === 'default' || name in (p.toolsets ?? {})),
    );
  });
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
  return portable(compact(rest, io)) as Record<string, unknown>;
}

/** Keywords that apply to a value of one JSON type (split into that type's `anyOf` branch). */
const TYPE_KEYWORDS: Record<string, readonly string[]> = {
  string: ['minLength', 'maxLength', 'pattern', 'format', 'contentEncoding', 'contentMediaType'],
  number: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  integer: ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'],
  array: ['items', 'prefixItems', 'minItems', 'maxItems', 'uniqueItems', 'contains'],
  object: [
    'properties',
    'required',
    'additionalProperties',
    'patternProperties',
    'propertyNames',
    'minProperties',
    'maxProperties',
  ],
};

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Portable JSON Schema: no `type: [..]` arrays (zod writes `type: ["string","number"]` for a union of
 * primitives and `["number","null"]` for a nullable), which single-type clients reject. Each becomes
 * `anyOf` of single-type branches, each branch with the keywords (and enum values) of its type;
 * annotations (description, default) stay on the node.
 */
export function portable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(portable);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = portable(v);
  if (!Array.isArray(out.type)) return out;
  const types = out.type as string[];
  if (types.length === 1) return { ...out, type: types[0] };
  const typed = new Set(types.flatMap((t) => TYPE_KEYWORDS[t] ?? []));
  const common: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(out))
    if (k !== 'type' && k !== 'enum' && k !== 'const' && !typed.has(k)) common[k] = v;
  const anyOf = types.map((t) => {
    const branch: Record<string, unknown> = { type: t };
    for (const k of TYPE_KEYWORDS[t] ?? []) if (k in out) branch[k] = out[k];
    const fits = (v: unknown) => jsonType(v) === t || (t === 'number' && jsonType(v) === 'integer');
    if (Array.isArray(out.enum)) branch.enum = (out.enum as unknown[]).filter(fits);
    if ('const' in out && fits(out.const)) branch.const = out.const;
    return branch;
  });
  const existing = Array.isArray(common.anyOf) ? { allOf: [{ anyOf: common.anyOf }] } : {};
  delete common.anyOf;
  return { ...common, ...existing, anyOf };
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
    // `additionalProperties: {}` (a record of unknown) says what the default says: anything
    const anything =
      key === 'additionalProperties' && value && typeof value === 'object' && Object.keys(value).length === 0;
    if (stringKeys || anything || (io === 'output' && key === 'additionalProperties' && value === false))
      continue;
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
  // MCP defaults: readOnlyHint false, openWorldHint true; destructive/idempotent hints mean
  // something only when readOnlyHint is false. What a default says is not repeated.
  if (def.effect === 'read') return { readOnlyHint: true };
  return {
    readOnlyHint: false,
    destructiveHint: def.effect === 'destructive',
    idempotentHint: def.idempotent ?? false,
  };
}

/** Build the registry once at start. Name collisions are errors naming both sources. */
export function buildRegistry(
  runtimes: PluginRuntime[],
  policy: Policy,
  options: RegistryOptions = { toolsets: policy.toolsets },
): Registry {
  if (options.toolsets?.length) {
    const unknown = unknownToolsets(
      runtimes.map((r) => r.plugin),
      options.toolsets,
    );
    if (unknown.length) {
      const have = runtimes.flatMap((r) =>
        Object.keys(r.plugin.toolsets ?? {}).map((t) => `${r.plugin.id}/${t}`),
      );
      throw new Error(
        `unknown toolset${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; this server has ${have.join(', ') || 'none'} (or all, default)`,
      );
    }
  }
  const toolsets: Record<string, string[]> = {};
  const unlisted = new Set<string>();
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
    const selected = selectToolsets(plugin, runtime.config.toolsets, options.toolsets);
    if (selected.length) toolsets[plugin.id] = selected;
    for (const tool of plugin.tools) {
      if (plugin.toolsets && !(tool.toolset && tool.toolset in plugin.toolsets)) {
        throw new Error(
          `plugin ${plugin.id} tool ${tool.name}: toolset ${tool.toolset === undefined ? 'is not set' : `"${tool.toolset}" is not one of ${Object.keys(plugin.toolsets).join(', ')}`}; set toolset to one of the plugin's toolsets`,
        );
      }
      const def = tool as ToolDefinition;
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
      // a toolset not chosen is not listed; its tools stay callable (policy decides what may run)
      const chosen = selected.length === 0 || selected.includes(def.toolset!);
      const allowed = isListed(policy, name, def.effect, plugin.id, instances);
      if (chosen && allowed) tools.set(name, entry);
      else {
        hidden.set(name, entry);
        if (allowed) unlisted.add(name);
      }
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
    // sorted by name: the same plugins and config list identically (prompt caches, cacheable lists)
    toolList: [...tools.values()]
      .map((t) => t.listing)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    completions: completers > 0,
    toolsets,
    unlisted,
  };
}
