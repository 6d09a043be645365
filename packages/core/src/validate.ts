/**
 * Checks of what is passed as plugins, at start (createServer), so a mistake is one clear error
 * naming the plugin and the fix rather than a TypeError at the first call.
 */
import { isPlugin, isPluginFactory, type Plugin } from './plugin.js';

/** A zod 4 schema carries `_zod` internals; zod 3 schemas have `_def` only. */
function zodMajor(schema: unknown): 4 | 3 | undefined {
  if (!schema || typeof schema !== 'object') return undefined;
  if ('_zod' in schema) return 4;
  if ('_def' in schema) return 3;
  return undefined;
}

/**
 * Throws unless `value` is a plugin built with this core: a factory passed uncalled (`hello`
 * instead of `hello()`), something that is no plugin, or schemas from another zod major.
 */
export function validatePlugin(value: unknown, index?: number): asserts value is Plugin {
  const where = index === undefined ? 'plugin' : `plugins[${index}]`;
  if (isPluginFactory(value)) {
    const call = value.pluginId.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    throw new Error(
      `${where} "${value.pluginId}" was passed as its factory, not a plugin: call it, e.g. ${call}() or ${call}({ ...options })`,
    );
  }
  if (!isPlugin(value)) {
    const got = typeof value === 'function' ? `a function (${value.name || 'anonymous'})` : typeof value;
    throw new Error(
      `${where} is ${got}, not an infra-mcp plugin: pass what a plugin factory made with definePlugin returns, e.g. prometheus({ url })`,
    );
  }
  const id = value.id;
  const schemas: [string, unknown][] = [['config', value.config]];
  for (const t of value.tools ?? []) {
    schemas.push([`tool ${t.name} input`, t.input], [`tool ${t.name} output`, t.output]);
    if (t.preview) schemas.push([`tool ${t.name} preview`, t.preview]);
  }
  for (const p of value.prompts ?? []) if (p.args) schemas.push([`prompt ${p.name} args`, p.args]);
  for (const [what, schema] of schemas) {
    const major = zodMajor(schema);
    if (major === 4) continue;
    throw new Error(
      major === 3
        ? `plugin ${id}: the ${what} schema is a zod 3 schema; @infra-mcp/core needs zod 4: build the plugin against zod ^4 (import { z } from 'zod' with zod 4 installed, one copy in the tree)`
        : `plugin ${id}: the ${what} schema is not a zod schema; define it with zod 4 (z.object({...}))`,
    );
  }
}

/** {@link validatePlugin} for every entry, at start. */
export function validatePlugins(values: readonly unknown[]): asserts values is Plugin[] {
  for (const [i, v] of values.entries()) validatePlugin(v, i);
}
