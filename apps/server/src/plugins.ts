import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, isPlugin, isPluginFactory, type Plugin } from '@infra-mcp/core';

/** A provider plugin the app knows about. Its module is imported only when the plugin is enabled. */
export interface CatalogEntry {
  id: string;
  package: string;
  /** Env vars that configure it (a set one enables the plugin). */
  envPrefix: string;
  /** One line for `doctor` when nothing is configured. */
  configureHint: string;
  load: () => Promise<(options?: any) => Plugin>;
}

/** Provider plugins bundled with the app. */
export const catalog: CatalogEntry[] = [
  {
    id: 'prometheus',
    package: '@infra-mcp/prometheus',
    envPrefix: 'PROMETHEUS_',
    configureHint: 'set PROMETHEUS_URL=http://127.0.0.1:9090, or plugins.prometheus.url in infra-mcp.yaml',
    load: async () => (await import('@infra-mcp/prometheus')).prometheus,
  },
  {
    id: 'terraform',
    package: '@infra-mcp/infra-ops',
    envPrefix: 'TERRAFORM_',
    configureHint:
      'set TERRAFORM_ROOT=/srv/infra (the directory holding the configurations), or plugins.terraform.root',
    load: async () => (await import('@infra-mcp/infra-ops')).terraform,
  },
  {
    id: 'helm',
    package: '@infra-mcp/infra-ops',
    envPrefix: 'HELM_CHARTS_',
    configureHint: 'set HELM_CHARTS_ROOT=/srv/charts, or plugins.helm.chartsRoot',
    load: async () => (await import('@infra-mcp/infra-ops')).helm,
  },
  {
    id: 'argocd',
    package: '@infra-mcp/infra-ops',
    envPrefix: 'ARGOCD_',
    configureHint: 'set ARGOCD_URL=https://argocd.example.com and ARGOCD_TOKEN, or plugins.argocd.url/token',
    load: async () => (await import('@infra-mcp/infra-ops')).argocd,
  },
  {
    id: 'aws',
    package: '@infra-mcp/infra-ops',
    envPrefix: 'INFRA_MCP_AWS_',
    configureHint:
      'set INFRA_MCP_AWS_REGION=eu-west-1 (credentials from the usual AWS chain), or plugins.aws.region',
    load: async () => (await import('@infra-mcp/infra-ops')).aws,
  },
];

export interface Selection {
  plugins: Plugin[];
  /** Catalog plugins not enabled (for doctor). */
  available: CatalogEntry[];
}

/**
 * Decide which plugins to load: `--plugins` when given; otherwise those with a config-file section
 * or env vars set. Modules from `--plugin-module` are always loaded.
 */
export async function selectPlugins(opts: {
  select?: string[];
  configured: string[];
  modules: string[];
  env: Record<string, string | undefined>;
  cwd?: string;
}): Promise<Selection> {
  const known = new Set(catalog.map((c) => c.id));
  for (const id of opts.select ?? []) {
    if (!known.has(id))
      throw new ConfigError(
        `--plugins: unknown plugin "${id}"; available: ${[...known].join(', ') || '(none installed)'}`,
      );
  }
  const extra: Plugin[] = [];
  for (const spec of opts.modules) extra.push(...(await loadModule(spec, opts.cwd ?? process.cwd())));
  const extraIds = new Set(extra.map((p) => p.id));
  for (const id of opts.configured) {
    if (!known.has(id) && !extraIds.has(id)) {
      throw new ConfigError(
        `config: "plugins.${id}": unknown plugin; available: ${[...known, ...extraIds].join(', ') || '(none installed)'}`,
      );
    }
  }
  const wanted = catalog.filter((c) =>
    opts.select
      ? opts.select.includes(c.id)
      : opts.configured.includes(c.id) ||
        Object.keys(opts.env).some((k) => k.startsWith(c.envPrefix) && opts.env[k]),
  );
  const plugins = await Promise.all(wanted.map(async (c) => (await c.load())()));
  return { plugins: [...plugins, ...extra], available: catalog.filter((c) => !wanted.includes(c)) };
}

/** Load plugins from a module path or package name: every export that is a Plugin or a plugin factory. */
async function loadModule(spec: string, cwd: string): Promise<Plugin[]> {
  const isPath = spec.startsWith('.') || isAbsolute(spec) || existsSync(resolve(cwd, spec));
  const target = isPath ? pathToFileURL(resolve(cwd, spec)).href : spec;
  let mod: Record<string, unknown>;
  try {
    mod = await import(target);
  } catch (err) {
    throw new ConfigError(
      `--plugin-module ${spec}: cannot import it (${(err as Error).message.split('\n')[0]})`,
    );
  }
  const found: Plugin[] = [];
  for (const value of Object.values(mod)) {
    if (isPlugin(value)) found.push(value);
    else if (isPluginFactory(value)) found.push(value());
  }
  if (found.length === 0)
    throw new ConfigError(`--plugin-module ${spec}: exports no plugin (export a definePlugin() factory)`);
  return found;
}
