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
    id: 'proxmox',
    package: '@infra-mcp/proxmox',
    envPrefix: 'PROXMOX_',
    configureHint:
      'npm install @infra-mcp/proxmox (GPL-3.0, not bundled), then set PROXMOX_URL=https://pve:8006 with PROXMOX_TOKEN_ID and PROXMOX_TOKEN_SECRET, or plugins.proxmox in infra-mcp.yaml',
    // Not bundled: @infra-mcp/proxmox and proxmox-api are GPL-3.0 and the app is Apache-2.0, so the
    // plugin is an optional peer the user installs; it loads from node_modules at first use.
    load: async () => {
      try {
        return (await import('@infra-mcp/proxmox')).proxmox;
      } catch (err) {
        if ((err as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw err;
        throw new ConfigError(
          'the proxmox plugin is not installed: npm install @infra-mcp/proxmox (GPL-3.0; kept out of the Apache-2.0 bundle)',
        );
      }
    },
  },
  {
    id: 'k8s',
    package: '@infra-mcp/k8s',
    // K8S_ only: a KUBECONFIG set for other tools does not turn the plugin on (it is read once enabled)
    envPrefix: 'K8S_',
    configureHint:
      'pass --plugins k8s (reads $KUBECONFIG or ~/.kube/config; each context is an instance), or set K8S_CONTEXT, or plugins.k8s in infra-mcp.yaml',
    // the plugin module is small; @kubernetes/client-node loads at an instance's first call
    load: async () => (await import('@infra-mcp/k8s')).k8s,
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
