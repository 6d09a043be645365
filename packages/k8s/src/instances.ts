import { readFileSync } from 'node:fs';
import { type InstancesFromContext, matchesAny, toInstanceName } from '@infra-mcp/core';
import type { K8sConfig } from './config.js';
import { kubeconfigPath, scanContexts } from './kubeconfig.js';

/** Every kubeconfig context becomes an instance (read-only where `readOnlyContexts` matches). */
export function instancesFrom(config: K8sConfig, ctx?: InstancesFromContext) {
  if (config.context || config.inCluster) return undefined;
  const path = kubeconfigPath(config);
  const listed = config.kubeconfig ? [] : (process.env.KUBECONFIG ?? '').split(':').filter(Boolean);
  if (listed.length > 1)
    ctx?.log?.warn(
      `k8s: KUBECONFIG lists ${listed.length} files; only the first (${path}) is read, so contexts of the others are not served: merge them (kubectl config view --flatten > merged.yaml) and set plugins.k8s.kubeconfig`,
    );
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // no kubeconfig (yet): the instance stays as configured; setup says what is wrong
  }
  const kc = scanContexts(text);
  const instance = (name: string) => ({
    name: toInstanceName(name),
    options: { context: name },
    default: name === kc.current,
    policy: matchesAny(name, config.readOnlyContexts) ? { readOnly: true } : undefined,
  });
  if ('unsupported' in kc) {
    // the full parser (@kubernetes/client-node, at first use) reads it; only the contexts are unknown now
    const fix = `rewrite it as kubectl does (kubectl config view --raw > new-file), or set plugins.k8s.context`;
    if (kc.current) {
      ctx?.log?.warn(
        `k8s: cannot list the contexts of ${path} at start (${kc.unsupported}); serving its current context "${kc.current}" only: ${fix}`,
      );
      return [instance(kc.current)];
    }
    if (config.readOnlyContexts.length > 0)
      throw new Error(
        `cannot read the contexts of ${path} (${kc.unsupported}), so readOnlyContexts cannot be applied: ${fix}`,
      );
    ctx?.log?.warn(`k8s: cannot list the contexts of ${path} at start (${kc.unsupported}): ${fix}`);
    return undefined;
  }
  if (kc.contexts.length === 0) return undefined;
  return kc.contexts.map(instance);
}
