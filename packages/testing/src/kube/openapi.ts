/**
 * OpenAPI v3 as kube-apiserver publishes it (`/openapi/v3` and one document per group-version),
 * reduced to what clients need for client-side validation (helm install/upgrade, kubectl apply
 * without --server-side): one schema per kind, tagged with `x-kubernetes-group-version-kind`.
 * The schemas check the envelope (apiVersion, kind, metadata as an object) and accept any other field.
 */
import type { KubeResource } from './resources.js';

function gvPath(r: KubeResource): string {
  return r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
}

export function openApiIndex(resources: KubeResource[]) {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const r of resources) {
    const p = gvPath(r);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=fake${r.version}` };
  }
  return { paths };
}

export function openApiDoc(resources: KubeResource[], path: string) {
  const inGv = resources.filter((r) => gvPath(r) === path);
  if (inGv.length === 0) return undefined;
  const schemas: Record<string, unknown> = {
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
      type: 'object',
      properties: {
        name: { type: 'string' },
        namespace: { type: 'string' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
      'x-kubernetes-preserve-unknown-fields': true,
    },
  };
  const paths: Record<string, unknown> = {};
  for (const r of inGv) {
    if (!r.review) {
      // kubectl and helm read the PATCH operation's parameters to learn that the server validates
      // fields itself (`fieldValidation`), and then skip client-side validation against OpenAPI v2.
      const item = `/${path}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
      paths[item] = {
        patch: {
          'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
          'x-kubernetes-action': 'patch',
          parameters: [
            { name: 'dryRun', in: 'query', schema: { type: 'string' } },
            { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
            { name: 'fieldValidation', in: 'query', schema: { type: 'string' } },
            { name: 'force', in: 'query', schema: { type: 'boolean' } },
          ],
          responses: { '200': { description: 'OK' } },
        },
      };
    }
    const pkg = r.group === '' ? 'core' : r.group.split('.')[0];
    schemas[`io.k8s.api.${pkg}.${r.version}.${r.kind}`] = {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: {
          allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }],
          default: {},
        },
      },
      'x-kubernetes-preserve-unknown-fields': true,
      'x-kubernetes-group-version-kind': [{ group: r.group, version: r.version, kind: r.kind }],
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (fake)', version: 'v1.33.0-fake' },
    paths,
    components: { schemas },
  };
}
