/** `@infra-mcp/testing/kube`: a loopback fake Kubernetes API server and the real kubectl/helm binaries. */
export { type KubeBinaries, kubeBinaries } from './kube/binaries.js';
export type { ExecHandler, ExecIO, ExecOutcome, ExecRequest } from './kube/exec.js';
export { apiVersionOf, type KubeResource, RESOURCES } from './kube/resources.js';
export {
  type FakeKube,
  type FakeKubeOptions,
  type KubeRequestInfo,
  type LogLine,
  startFakeKube,
} from './kube/server.js';
export { KubeStatus, type Obj, Store } from './kube/store.js';
