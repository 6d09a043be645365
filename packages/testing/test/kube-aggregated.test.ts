import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeKube, startFakeKube } from '../src/kube.js';

let fake: FakeKube;
beforeAll(async () => {
  fake = await startFakeKube();
});
afterAll(() => fake.close());

const discovery = (v: string) => `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;

async function get(path: string, accept: string) {
  const res = await fetch(fake.url + path, { headers: { accept } });
  return { type: res.headers.get('content-type'), body: (await res.json()) as any };
}

describe('fake API server: aggregated discovery', () => {
  it('answers the first aggregated format the client accepts (v2, else v2beta1), the legacy form otherwise', async () => {
    const v2 = await get('/apis', `${discovery('v2')},${discovery('v2beta1')},application/json`);
    expect(v2.type).toBe(discovery('v2'));
    expect(v2.body.apiVersion).toBe('apidiscovery.k8s.io/v2');
    const beta = await get('/apis', `${discovery('v2beta1')},application/json`);
    expect(beta.type).toBe(discovery('v2beta1'));
    expect(beta.body.kind).toBe('APIGroupDiscoveryList');
    const legacy = await get('/apis', 'application/json');
    expect(legacy.body.kind).toBe('APIGroupList');
    expect((await get('/api', 'application/json')).body.kind).toBe('APIVersions');
  });

  it('lists every group the legacy documents list, with scopes, short names and subresources', async () => {
    const { body } = await get('/apis', discovery('v2'));
    const legacy = (await get('/apis', 'application/json')).body;
    expect(body.items.map((g: any) => g.metadata.name)).toEqual(legacy.groups.map((g: any) => g.name));
    const apps = body.items.find((g: any) => g.metadata.name === 'apps').versions[0];
    const deployments = apps.resources.find((r: any) => r.resource === 'deployments');
    expect(deployments).toMatchObject({
      responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      scope: 'Namespaced',
      shortNames: ['deploy'],
    });
    expect(deployments.subresources).toContainEqual({
      subresource: 'scale',
      responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      verbs: ['get', 'patch', 'update'],
    });
    const core = (await get('/api', discovery('v2'))).body.items;
    expect(core).toHaveLength(1);
    expect(core[0].versions[0].resources.find((r: any) => r.resource === 'namespaces').scope).toBe('Cluster');
  });
});
