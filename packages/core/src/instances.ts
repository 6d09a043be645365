import type { z } from 'zod';
import { collectSecrets, formatIssues, type ResolvedPluginConfig } from './config.js';
import { ConfigError } from './errors.js';
import type { Logger } from './log.js';
import type { Plugin } from './plugin.js';
import { type PolicyRules, policyRulesSchema } from './policy.js';
import { addSecret } from './redact.js';

/** One instance a plugin found at start (`instancesFrom`): a kubeconfig context, a cluster in a file. */
export interface DiscoveredInstance<Input = Record<string, unknown>> {
  /** Instance name, [a-z0-9][a-z0-9_-]* (`toInstanceName` turns `arn:aws:eks:...` or `Kind-Dev` into one). */
  name: string;
  /** Options of this instance, merged over the options of the instance it was discovered from. */
  options?: Partial<Input>;
  /** Policy of this instance (readOnly, allow, deny). The config file's `policy.instances.<name>` wins key by key. */
  policy?: PolicyRules;
  /** Make this the default instance (kubeconfig's current-context): listed first. */
  default?: boolean;
}

export interface InstancesFromContext {
  /** The configured instance the discovery starts from (`default` for a single-instance config). */
  instance: string;
  log?: Logger;
}

const INSTANCE_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** A valid instance name from any label: lower case, runs of other characters become `-`, at most 63 characters. */
export function toInstanceName(label: string): string {
  const name = label
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return name || 'instance';
}

/**
 * Expand the configured instances of a plugin that declares `instancesFrom` into the instances it
 * discovers. Runs once, synchronously, when the server resolves its config (before the registry is
 * built, so the `instance` argument lists them and policy applies per discovered instance).
 * For each configured instance, `instancesFrom(parsedOptions, { instance })` returns the instances
 * found there (which replace it) or `undefined` (keep it as configured). Discovered options are
 * merged over the source's options and checked against the plugin's schema; any problem (an
 * unreadable file, a bad name, a duplicate, an invalid option) is a ConfigError at start.
 */
export function expandInstances(
  plugin: Plugin,
  resolved: ResolvedPluginConfig,
  options: { fileName?: string; log?: Logger } = {},
): ResolvedPluginConfig {
  if (!plugin.instancesFrom) return resolved;
  const fileName = options.fileName ?? 'config';
  const prefix = `plugins.${plugin.id}`;
  const instances: Record<string, Record<string, unknown>> = {};
  const origin = new Map<string, string>();
  const policyInstances: Record<string, PolicyRules> = { ...resolved.policy.instances };
  // the live list: it carries the plugin's redaction path rules (a copy would drop them)
  const secrets = resolved.secrets;
  const strict = (plugin.config as z.ZodObject).strict();

  for (const [source, config] of Object.entries(resolved.instances)) {
    const where = `${prefix} (instance "${source}")`;
    let found: DiscoveredInstance[] | undefined;
    try {
      found = plugin.instancesFrom(config as never, { instance: source, log: options.log }) as
        | DiscoveredInstance[]
        | undefined;
    } catch (err) {
      throw new ConfigError(`${fileName}: ${where}: discovering instances failed: ${(err as Error).message}`);
    }
    if (found === undefined) {
      add(source, config, source);
      continue;
    }
    if (!Array.isArray(found) || found.length === 0) {
      throw new ConfigError(
        `${fileName}: ${where}: ${plugin.id} discovered no instances there; fix its options (infra-mcp config shows them)`,
      );
    }
    const ordered = [...found.filter((d) => d.default), ...found.filter((d) => !d.default)];
    for (const d of ordered) {
      if (typeof d?.name !== 'string' || !INSTANCE_NAME.test(d.name)) {
        throw new ConfigError(
          `${fileName}: ${where}: discovered instance name ${JSON.stringify(d?.name)} is not valid: instance names use [a-z0-9_-] (the plugin can use toInstanceName)`,
        );
      }
      const merged = { ...config, ...(d.options ?? {}) };
      const parsed = strict.safeParse(merged, { reportInput: true });
      if (!parsed.success) {
        throw new ConfigError(
          formatIssues(
            `${fileName} (instance "${d.name}" discovered from "${source}")`,
            prefix,
            plugin.config,
            parsed.error,
          ),
        );
      }
      if (d.policy !== undefined) {
        const policy = policyRulesSchema.safeParse(d.policy);
        if (!policy.success) {
          throw new ConfigError(
            formatIssues(
              `${plugin.id}.instancesFrom (instance "${d.name}")`,
              'policy',
              policyRulesSchema,
              policy.error,
            ),
          );
        }
        // the config file's policy for this instance wins, key by key
        policyInstances[d.name] = { ...policy.data, ...resolved.policy.instances?.[d.name] };
      }
      add(d.name, parsed.data as Record<string, unknown>, source);
      collectSecrets(plugin.config, parsed.data, secrets);
      for (const v of plugin.redact?.values?.(parsed.data as never) ?? []) addSecret(secrets, v);
    }
  }

  function add(name: string, config: Record<string, unknown>, source: string) {
    if (origin.has(name)) {
      const other = origin.get(name)!;
      throw new ConfigError(
        `${fileName}: ${prefix}: instance "${name}" is defined twice (${other === name ? 'configured' : `discovered from "${other}"`} and ${source === name ? 'configured' : `discovered from "${source}"`}); rename one`,
      );
    }
    origin.set(name, source);
    instances[name] = config;
  }

  return {
    ...resolved,
    instances,
    policy: Object.keys(policyInstances).length
      ? { ...resolved.policy, instances: policyInstances }
      : resolved.policy,
    secrets,
  };
}
