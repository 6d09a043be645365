export { KubeClient, type Obj } from './client.js';
export { configSchema, envMap, type K8sConfig } from './config.js';
export { instancesFrom } from './instances.js';
export { k8s, REDACTION_PATHS, VERSION } from './plugin.js';
