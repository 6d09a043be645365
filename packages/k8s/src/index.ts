// a type only: the client module loads at an instance's first call, never with the plugin
export type { KubeClient, Obj } from './client.js';
export { configSchema, envMap, type K8sConfig } from './config.js';
export { instancesFrom } from './instances.js';
export { k8s, REDACTION_PATHS, VERSION } from './plugin.js';
