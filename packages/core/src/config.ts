import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import type { Plugin } from './plugin.js';
import { type PolicyRules, policyRulesSchema } from './policy.js';
import { addSecret, isSecretKey, REDACTED, secretList } from './redact.js';
import {
  resolveSecretRefs,
  type SecretRefContext,
  type SecretReference,
  secretRefContext,
  showReference,
} from './secret-refs.js';

/** Mark a config option as a secret: redacted by `infra-mcp config`, in logs, errors and audit. */
export function secret<T extends z.ZodType>(schema: T): T {
  return schema.meta({ secret: true }) as T;
}

/** Attach an example shown in configuration errors. */
export function example<T extends z.ZodType>(schema: T, value: unknown): T {
  return schema.meta({ example: value }) as T;
}

function metaOf(schema: z.ZodType): Record<string, unknown> | undefined {
  let s: any = schema;
  for (let i = 0; i < 8 && s; i++) {
    const meta = z.globalRegistry.get(s);
    if (meta) return meta as Record<string, unknown>;
    s = s._zod?.def?.innerType ?? s._zod?.def?.in;
  }
  return undefined;
}

function unwrap(schema: any): any {
  let s = schema;
  for (let i = 0; i < 8 && s?._zod?.def?.innerType; i++) s = s._zod.def.innerType;
  return s;
}

function fieldAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: any = schema;
  for (const key of path) {
    s = unwrap(s);
    if (s?._zod?.def?.type === 'object') s = s._zod.def.shape[key as string];
    else if (s?._zod?.def?.type === 'record') s = s._zod.def.valueType;
    else if (s?._zod?.def?.type === 'array') s = s._zod.def.element;
    else return undefined;
    if (!s) return undefined;
  }
  return s;
}

/**
 * Literal secret values in a parsed config, to scrub from any text: options marked `secret()` (also
 * as values of a record, e.g. every header value), values under credential-looking keys at any depth
 * (headers: { X-Api-Key: ... }), URL passwords (as written and decoded), and the base64
 * `user:password` form of basic credentials (a backend may echo it without the `Basic ` prefix).
 */
export function collectSecrets(
  schema: z.ZodType | undefined,
  value: unknown,
  out: string[] = [],
  key = '',
): string[] {
  const s = schema ? unwrap(schema) : undefined;
  if (typeof value === 'string') {
    if ((schema && metaOf(schema)?.secret) || (key && isSecretKey(key))) addSecret(out, value);
    for (const v of urlCredentials(value)) addSecret(out, v);
    return out;
  }
  if (typeof value === 'number' && ((schema && metaOf(schema)?.secret) || (key && isSecretKey(key)))) {
    addSecret(out, String(value));
    return out;
  }
  if (Array.isArray(value)) {
    for (const item of value) collectSecrets(s?._zod?.def?.element, item, out, key);
    return out;
  }
  if (value && typeof value === 'object') {
    const shape = s?._zod?.def?.type === 'object' ? s._zod.def.shape : undefined;
    const valueType = s?._zod?.def?.type === 'record' ? s._zod.def.valueType : undefined;
    for (const [k, v] of Object.entries(value)) collectSecrets(shape?.[k] ?? valueType, v, out, k);
    const { username, password } = value as { username?: unknown; password?: unknown };
    if (typeof username === 'string' && typeof password === 'string' && password !== '')
      addSecret(out, basicForm(username, password));
  }
  return out;
}

/** base64 of `user:password`, what an Authorization: Basic header carries. */
export function basicForm(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`).toString('base64');
}

/** The password of a URL with userinfo (as written and decoded) and its basic-auth form. */
function urlCredentials(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/\s]*:[^/\s]*@/i.test(value)) return [];
  try {
    const url = new URL(value);
    if (!url.password) return [];
    const user = safeDecode(url.username);
    const password = safeDecode(url.password);
    return [url.password, password, basicForm(user, password)];
  } catch {
    // not a URL the client could use either; the raw text between ':' and the last '@'
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:(.*)@[^@]*$/i.exec(value);
    return m?.[1] ? [m[1]] : [];
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Whether the option at `path` holds a secret: marked `secret()` or named like a credential. */
function isSecretOption(schema: z.ZodType, path: readonly PropertyKey[]): boolean {
  const field = fieldAt(schema, path);
  if (field && metaOf(field)?.secret) return true;
  return path.some((k) => typeof k === 'string' && isSecretKey(k));
}

/** Copy of a parsed config with options marked secret (and secret record values) replaced by "[REDACTED]". */
export function redactConfig(schema: z.ZodType, value: unknown): unknown {
  if (metaOf(schema)?.secret && value !== undefined) return REDACTED;
  const s = unwrap(schema);
  const type = s?._zod?.def?.type;
  if (type === 'object' && value && typeof value === 'object') {
    const out: Record<string, unknown> = { ...(value as object) };
    for (const [k, field] of Object.entries(s._zod.def.shape)) {
      if (k in out) out[k] = redactConfig(field as z.ZodType, out[k]);
    }
    return out;
  }
  if (type === 'record' && value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, redactConfig(s._zod.def.valueType, v)]),
    );
  }
  if (type === 'array' && Array.isArray(value)) return value.map((v) => redactConfig(s._zod.def.element, v));
  return value;
}

function exampleFor(field: z.ZodType | undefined): string {
  if (!field) return '';
  const ex = metaOf(field)?.example;
  if (ex !== undefined) return JSON.stringify(ex);
  const t = unwrap(field)?._zod?.def?.type;
  switch (t) {
    case 'string':
      return '"text"';
    case 'number':
    case 'int':
      return '30';
    case 'boolean':
      return 'true';
    case 'array':
      return '["a", "b"]';
    case 'enum':
      return JSON.stringify(Object.values(unwrap(field)._zod.def.entries)[0]);
    case 'object':
      return '{ ... }';
    default:
      return '';
  }
}

/** Turn zod issues into one readable message: source, key, what was wrong, what is expected, an example. */
export function formatIssues(source: string, prefix: string, schema: z.ZodType, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      const parent = fieldAt(schema, issue.path);
      const known = Object.keys((unwrap(parent) as any)?._zod?.def?.shape ?? {});
      return `${source}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${[path, k].filter(Boolean).join('.')}"`).join(', ')}; known keys here: ${known.join(', ') || '(none)'}`;
    }
    const field = fieldAt(schema, issue.path);
    const ex = exampleFor(field);
    let what: string = issue.message;
    const hide = isSecretOption(schema, issue.path) || isSecretKey(prefix.split('.').pop() ?? '');
    if (issue.code === 'invalid_type') {
      what =
        issue.input === undefined
          ? `required option is missing (expected ${issue.expected})`
          : `expected ${issue.expected}, got ${hide ? `${describeType(issue.input)} (value hidden: a secret option)` : describeValue(issue.input)}`;
    } else if (hide && 'input' in issue && issue.input !== undefined) {
      // messages of custom checks may quote the value
      what = `${what.split(String(issue.input)).join(REDACTED)} (value hidden: a secret option)`;
    }
    return `${source}: "${path || '(root)'}": ${what}${ex ? `; example: ${path.split('.').pop()}: ${ex}` : ''}`;
  });
  return lines.join('\n');
}

function describeType(v: unknown): string {
  return Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
}

function describeValue(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${typeof v === 'object' ? '' : String(v)}`.trim();
}

/** Parse an env string into the type the schema expects at that option. */
export function coerceEnv(field: z.ZodType | undefined, raw: string): unknown {
  const t = unwrap(field)?._zod?.def?.type;
  if (t === 'number' || t === 'int') return raw.trim() === '' ? raw : Number(raw);
  if (t === 'boolean')
    return /^(1|true|yes|on)$/i.test(raw) ? true : /^(0|false|no|off)$/i.test(raw) ? false : raw;
  if (t === 'array')
    return raw
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  if (t === 'object' || t === 'record') {
    try {
      return JSON.parse(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
  let o = target;
  for (const key of path.slice(0, -1)) {
    if (!o[key] || typeof o[key] !== 'object') o[key] = {};
    o = o[key] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = value;
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (
    base &&
    over &&
    typeof base === 'object' &&
    typeof over === 'object' &&
    !Array.isArray(base) &&
    !Array.isArray(over)
  ) {
    const out: Record<string, unknown> = { ...(base as object) };
    for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v);
    return out;
  }
  return over;
}

/** The config-file section of one plugin: single-instance options inline, or `instances:`. */
export const pluginSectionKeys = ['enabled', 'instances', 'policy', 'toolsets'] as const;

export interface ResolvedPluginConfig {
  enabled: boolean;
  /** Instance name -> parsed options. The first is the default. */
  instances: Record<string, Record<string, unknown>>;
  policy: PolicyRules & { instances?: Record<string, PolicyRules> };
  /** Toolsets chosen in the config (`plugins.<id>.toolsets`: names, or "all"); unset: the plugin's defaults. */
  toolsets?: string[];
  /**
   * Literal secret values to scrub from any text; carries the plugin's redaction paths (see
   * `secretList`), and grows when setup learns a secret (`ctx.secret`).
   */
  secrets: string[];
  /**
   * Secret references resolved at start (`env:NAME`, `file:PATH`, `enc:v1:...`), per instance, at
   * their option paths: `infra-mcp config` shows these instead of `[REDACTED]`.
   */
  references?: Record<string, SecretReference[]>;
}

export interface ResolveSource {
  /** The plugin's section of the config file (`plugins.<id>`), if any. */
  file?: unknown;
  /** Name of the file, for error messages. */
  fileName?: string;
  env?: Record<string, string | undefined>;
  /** Where relative `file:` references start (default: the config file's directory, else the working directory). */
  baseDir?: string;
  /** Resolves secret references; default: from `env` and `baseDir`, key from INFRA_MCP_SECRET_KEY or its key file. */
  secretRefs?: SecretRefContext;
}

const DEFAULT_INSTANCE = 'default';
const INSTANCE_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Resolve one plugin's configuration. Precedence, lowest first: schema defaults, options given in
 * code, the config file, environment variables (which apply to the default instance).
 * Throws ConfigError naming the file or variable, the key, the expected type and an example.
 */
export function resolvePluginConfig(plugin: Plugin, src: ResolveSource = {}): ResolvedPluginConfig {
  const fileName = src.fileName ?? 'config';
  const env = src.env ?? process.env;
  const prefix = `plugins.${plugin.id}`;
  const file = (src.file ?? {}) as Record<string, unknown>;
  if (typeof file !== 'object' || Array.isArray(file)) {
    throw new ConfigError(
      `${fileName}: "${prefix}" must be a mapping of options, got ${describeValue(file)}`,
    );
  }
  const { enabled, instances: fileInstances, policy, toolsets, ...inline } = file;
  const code = (plugin.options ?? {}) as Record<string, unknown>;
  const codeInstances = (code.instances as Record<string, Record<string, unknown>> | undefined) ?? undefined;
  const codeInline = codeInstances ? {} : code;

  let raw: Record<string, Record<string, unknown>>;
  if (fileInstances !== undefined || codeInstances) {
    if (!plugin.instances && fileInstances !== undefined) {
      throw new ConfigError(
        `${fileName}: "${prefix}.instances": plugin ${plugin.id} has a single backend; put its options directly under ${prefix}`,
      );
    }
    if (
      fileInstances !== undefined &&
      (typeof fileInstances !== 'object' || Array.isArray(fileInstances) || fileInstances === null)
    ) {
      throw new ConfigError(
        `${fileName}: "${prefix}.instances" must map instance names to options; example: instances: { prod: { ... } }`,
      );
    }
    raw = {};
    for (const name of Object.keys({
      ...(codeInstances ?? {}),
      ...((fileInstances as object) ?? {}),
    })) {
      raw[name] = deepMerge(codeInstances?.[name] ?? {}, (fileInstances as any)?.[name] ?? {}) as Record<
        string,
        unknown
      >;
    }
    if (Object.keys(inline).length > 0) {
      throw new ConfigError(
        `${fileName}: "${prefix}": options ${Object.keys(inline).join(', ')} must go under an instance when "instances" is used`,
      );
    }
  } else {
    raw = { [DEFAULT_INSTANCE]: deepMerge(codeInline, inline) as Record<string, unknown> };
  }

  // env vars: validated per variable, applied to the first (default) instance
  const first = Object.keys(raw)[0] ?? DEFAULT_INSTANCE;
  raw[first] ??= {};
  const envSet: string[] = [];
  for (const [name, path] of Object.entries(plugin.env ?? {})) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    const parts = path.split('.');
    const field = fieldAt(plugin.config, parts);
    const coerced = coerceEnv(field, value);
    if (field) {
      const check = field.safeParse(coerced, { reportInput: true });
      if (!check.success) {
        throw new ConfigError(
          formatIssues(`env ${name}`, parts.join('.'), field, check.error).replace(/"\.?/, '"'),
        );
      }
    }
    setPath(raw[first]!, parts, coerced);
    envSet.push(name);
  }

  const instances: Record<string, Record<string, unknown>> = {};
  const references: Record<string, SecretReference[]> = {};
  const secrets = secretList([], plugin.redact?.paths ?? []);
  const strict = (plugin.config as z.ZodObject).strict();
  const refCtx =
    src.secretRefs ??
    secretRefContext(env, src.baseDir ?? (src.fileName ? dirname(resolve(src.fileName)) : process.cwd()));
  for (const [name, given] of Object.entries(raw)) {
    if (!INSTANCE_NAME.test(name)) {
      throw new ConfigError(
        `${fileName}: "${prefix}.instances.${name}": instance names use [a-z0-9_-], e.g. prod, staging-eu`,
      );
    }
    const where = plugin.instances && fileInstances !== undefined ? `${prefix}.instances.${name}` : prefix;
    // secret references (env:, file:, enc:) in secret options, before validation; errors name the option, never the value
    const refs: SecretReference[] = [];
    const options = resolveSecretRefs(plugin.config, given, refCtx, refs, (path, ref, err) => {
      const source = envSet.length ? `${fileName} (with env ${envSet.join(', ')})` : fileName;
      throw new ConfigError(
        `${source}: "${[where, ...path].join('.')}": ${showReference(ref)}: ${err.message}`,
      );
    });
    if (refs.length) references[name] = refs;
    const parsed = strict.safeParse(options, { reportInput: true });
    if (!parsed.success) {
      const source = envSet.length ? `${fileName} (with env ${envSet.join(', ')})` : fileName;
      throw new ConfigError(formatIssues(source, where, plugin.config, parsed.error));
    }
    instances[name] = parsed.data as Record<string, unknown>;
    collectSecrets(plugin.config, parsed.data, secrets);
    for (const v of plugin.redact?.values?.(parsed.data as never) ?? []) addSecret(secrets, v);
  }

  const policyParsed = pluginPolicySchema.safeParse(policy ?? {}, { reportInput: true });
  if (!policyParsed.success)
    throw new ConfigError(formatIssues(fileName, `${prefix}.policy`, pluginPolicySchema, policyParsed.error));
  let toolsetList: string[] | undefined;
  if (toolsets !== undefined) {
    const list = typeof toolsets === 'string' ? toolsets.split(',').map((t) => t.trim()) : toolsets;
    if (!Array.isArray(list) || !list.every((t) => typeof t === 'string' && t !== '')) {
      throw new ConfigError(
        `${fileName}: "${prefix}.toolsets" must be a list of toolset names or "all"; example: toolsets: [${Object.keys(
          plugin.toolsets ?? { core: 0 },
        )
          .slice(0, 2)
          .join(', ')}]`,
      );
    }
    toolsetList = list;
  }
  const configured = plugin.isConfigured
    ? Object.values(instances).some((c) => plugin.isConfigured!(c as any))
    : true;
  return {
    enabled: typeof enabled === 'boolean' ? enabled : configured,
    instances,
    policy: policyParsed.data,
    ...(toolsetList ? { toolsets: toolsetList } : {}),
    secrets,
    ...(Object.keys(references).length ? { references } : {}),
  };
}

export const pluginPolicySchema = policyRulesSchema.extend({
  instances: z.record(z.string(), policyRulesSchema).optional(),
});
