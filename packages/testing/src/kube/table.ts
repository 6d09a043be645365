/** The Table form of a list (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`). */
import type { KubeResource } from './resources.js';
import type { Obj } from './store.js';

export function age(ts: string | undefined, now = Date.now()): string {
  if (!ts) return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

type Column = [name: string, type: string, cell: (o: Obj) => unknown];

function podCells(): Column[] {
  return [
    [
      'Ready',
      'string',
      (o) => {
        const cs = o.status?.containerStatuses ?? [];
        const total = o.spec?.containers?.length ?? cs.length;
        return `${cs.filter((c: Obj) => c.ready).length}/${total}`;
      },
    ],
    ['Status', 'string', (o) => o.status?.reason ?? o.status?.phase ?? ''],
    [
      'Restarts',
      'string',
      (o) =>
        String(
          (o.status?.containerStatuses ?? []).reduce((n: number, c: Obj) => n + (c.restartCount ?? 0), 0),
        ),
    ],
  ];
}

function columns(r: KubeResource): Column[] {
  const name: Column = ['Name', 'string', (o) => o.metadata.name];
  const created: Column = ['Age', 'string', (o) => age(o.metadata.creationTimestamp)];
  switch (r.kind) {
    case 'Pod':
      return [name, ...podCells(), created];
    case 'Deployment':
      return [
        name,
        ['Ready', 'string', (o) => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`],
        ['Up-to-date', 'integer', (o) => o.status?.updatedReplicas ?? 0],
        ['Available', 'integer', (o) => o.status?.availableReplicas ?? 0],
        created,
      ];
    case 'ConfigMap':
      return [name, ['Data', 'integer', (o) => Object.keys(o.data ?? {}).length], created];
    case 'Secret':
      return [
        name,
        ['Type', 'string', (o) => o.type ?? 'Opaque'],
        ['Data', 'integer', (o) => Object.keys(o.data ?? {}).length],
        created,
      ];
    default:
      return [name, created];
  }
}

export function toTable(r: KubeResource, items: Obj[], listMeta: Obj): Obj {
  const cols = columns(r);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: cols.map(([name, type], i) => ({
      name,
      type,
      format: i === 0 ? 'name' : '',
      description: name,
      priority: 0,
    })),
    rows: items.map((o) => ({
      cells: cols.map(([, , cell]) => cell(o)),
      object: {
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: o.metadata,
      },
    })),
  };
}
