import { readFileSync } from 'node:fs';
import { matchesAny, toInstanceName } from '@infra-mcp/core';
import { parse } from 'yaml';
import { kubeconfigPath } from './client.js';
import type { K8sConfig } from './config.js';

/** Every kubeconfig context becomes an instance (read-only where `readOnlyContexts` matches). */
export function instancesFrom(config: K8sConfig) {
  if (config.context || config.inCluster) return undefined;
  let kc: { contexts?: { name: string }[]; 'current-context'?: string };
  try {
    kc = parse(readFileSync(kubeconfigPath(config), 'utf8')) ?? {};
  } catch {
    return undefined; // no kubeconfig (yet): the instance stays as configured; setup says what is wrong
  }
  const contexts = kc.contexts ?? [];
  if (contexts.length === 0) return undefined;
  return contexts.map((c) => ({
    name: toInstanceName(c.name),
    options: { context: c.name },
    default: c.name === kc['current-context'],
    policy: matchesAny(c.name, config.readOnlyContexts) ? { readOnly: true } : undefined,
  }));
}
