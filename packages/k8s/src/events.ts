import type { KubeClient, Obj } from './client.js';

export interface EventRow {
  type: string;
  reason: string;
  object: string;
  message: string;
  count: number;
  last: string;
}

/** Core v1 events of a namespace (or one object), warnings first, newest first. */
export async function fetchEvents(
  client: KubeClient,
  ns: string | undefined,
  about?: { kind: string; name: string },
  signal?: AbortSignal,
): Promise<EventRow[]> {
  const fieldSelector = about
    ? `involvedObject.kind=${about.kind},involvedObject.name=${about.name}`
    : undefined;
  const path = ns ? `/api/v1/namespaces/${encodeURIComponent(ns)}/events` : '/api/v1/events';
  const list = await client.get<Obj>(path, { query: { fieldSelector, limit: 500 }, signal });
  return (list.items ?? [])
    .map((e: Obj) => ({
      type: e.type ?? 'Normal',
      reason: e.reason ?? '',
      object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
      message: String(e.message ?? '').trim(),
      count: e.count ?? 1,
      last: e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '',
    }))
    .sort(
      (a: EventRow, b: EventRow) =>
        Number(b.type === 'Warning') - Number(a.type === 'Warning') || b.last.localeCompare(a.last),
    );
}
