import { isToolError, ToolError } from '@infra-mcp/core';
import { z } from 'zod';
import type { Obj } from '../client.js';
import { type Ctx, namespaceOf, slim, tool } from '../common.js';
import { type ApiResource, resolveKind, resourcePath } from '../discovery.js';
import { type Change, diffObjects, maskSecrets, parseManifest, secretValues, short } from '../manifest.js';

const MANAGER = 'infra-mcp';

interface Planned {
  r: ApiResource;
  ns?: string;
  doc: Obj;
  /** resourceVersion of the live object at the dry run (null: it did not exist). */
  liveVersion: string | null;
}

interface ObjectDiff {
  kind: string;
  namespace?: string;
  name: string;
  action: 'create' | 'update' | 'unchanged';
  changes: Change[];
  liveVersion: string | null;
}

const label = (d: { kind: string; namespace?: string; name: string }) =>
  `${d.kind} ${d.namespace ? `${d.namespace}/` : ''}${d.name}`;

async function getLive(ctx: Ctx, p: { r: ApiResource; ns?: string; name: string }): Promise<Obj | null> {
  try {
    return await ctx.client.get<Obj>(resourcePath(p.r, p.ns, p.name), { signal: ctx.signal });
  } catch (err) {
    if (isToolError(err) && err.code === 'not_found') return null;
    throw err;
  }
}

function ssa(ctx: Ctx, p: Planned, o: { dryRun: boolean; force: boolean }): Promise<Obj> {
  return ctx.client.request('PATCH', resourcePath(p.r, p.ns, p.doc.metadata.name), {
    query: { fieldManager: MANAGER, force: o.force, dryRun: o.dryRun ? 'All' : undefined },
    body: p.doc,
    contentType: 'application/apply-patch+yaml',
    signal: ctx.signal,
  });
}

export const applyTool = tool({
  name: 'apply',
  title: 'Apply manifests',
  description:
    'Server-side apply of multi-document YAML or JSON. Dry run first (server-side, dryRun=All) with a per-object diff; nothing is applied if any document is invalid.',
  input: z.object({
    manifest: z.string().min(1).describe('YAML (documents separated by ---) or JSON'),
    namespace: z.string().optional().describe('Namespace for documents that name none'),
    force: z.boolean().default(false).describe('Take over fields owned by other managers'),
  }),
  output: z.object({ applied: z.array(z.string()) }),
  effect: 'write',
  idempotent: true,
  toolset: 'write',
  plan: async (args, ctx) => {
    const docs = await parseManifest(args.manifest);
    // values the manifest carries are scrubbed from this call's answer, errors and audit record
    for (const doc of docs) for (const v of secretValues(doc)) ctx.secret(v);
    const planned: Planned[] = [];
    for (const [i, doc] of docs.entries()) {
      const r = await resolveKind(ctx.client, doc.kind, doc.apiVersion, ctx.signal).catch((err) => {
        throw isToolError(err)
          ? new ToolError(
              err.code,
              `document ${i + 1}: ${err.message}`,
              `${err.hint ?? ''}; nothing was applied`,
            )
          : err;
      });
      const ns = r.namespaced ? namespaceOf(ctx, doc.metadata.namespace ?? args.namespace) : undefined;
      planned.push({
        r,
        ns,
        doc: r.namespaced ? { ...doc, metadata: { ...doc.metadata, namespace: ns } } : doc,
        liveVersion: null,
      });
    }
    const diffs: ObjectDiff[] = [];
    for (const [i, p] of planned.entries()) {
      const live = await getLive(ctx, { r: p.r, ns: p.ns, name: p.doc.metadata.name });
      p.liveVersion = live?.metadata?.resourceVersion ?? null;
      let dry: Obj;
      try {
        dry = await ssa(ctx, p, { dryRun: true, force: args.force });
      } catch (err) {
        if (!isToolError(err)) throw err;
        throw new ToolError(
          err.code,
          `document ${i + 1} of ${planned.length} (${label({ kind: p.r.kind, namespace: p.ns, name: p.doc.metadata.name })}) was refused by the dry run: ${err.message}`,
          `${err.hint ?? 'fix it'}; nothing was applied`,
          { document: i + 1, ...(err.details ?? {}) },
        );
      }
      const changes = live ? diffObjects(maskSecrets(slim(live)), maskSecrets(slim(dry))) : [];
      diffs.push({
        kind: p.r.kind,
        ...(p.ns ? { namespace: p.ns } : {}),
        name: p.doc.metadata.name,
        action: !live ? 'create' : changes.length ? 'update' : 'unchanged',
        changes,
        liveVersion: p.liveVersion,
      });
    }
    const count = (a: string) => diffs.filter((d) => d.action === a).length;
    return {
      change: diffs,
      summary: `apply ${diffs.length} object${diffs.length === 1 ? '' : 's'}: ${count('create')} created, ${count('update')} changed, ${count('unchanged')} unchanged`,
      preview: { objects: diffs },
      items: diffs.map((d) => ({
        text: [
          `${{ create: '+', update: '~', unchanged: '=' }[d.action]} ${label(d)} (${d.action})`,
          ...d.changes.map(
            (c) =>
              `    ${c.path}: ${c.from === undefined ? '(none)' : short(c.from)} -> ${c.to === undefined ? '(removed)' : short(c.to)}`,
          ),
        ].join('\n'),
        data: d,
      })),
      handle: planned,
    };
  },
  verify: async (_args, ctx, plan) => {
    for (const p of plan.handle as Planned[]) {
      const live = await getLive(ctx, { r: p.r, ns: p.ns, name: p.doc.metadata.name });
      const now = live?.metadata?.resourceVersion ?? null;
      if (now !== p.liveVersion)
        throw new ToolError(
          'stale_plan',
          `${label({ kind: p.r.kind, namespace: p.ns, name: p.doc.metadata.name })} changed since the dry run (resourceVersion ${p.liveVersion ?? 'none'} -> ${now ?? 'deleted'})`,
          'preview again (call k8s_apply without approval)',
        );
    }
  },
  run: async (args, ctx, plan) => {
    const planned = plan?.handle as Planned[];
    const applied: string[] = [];
    for (const [i, p] of planned.entries()) {
      const name = label({ kind: p.r.kind, namespace: p.ns, name: p.doc.metadata.name });
      try {
        await ssa(ctx, p, { dryRun: false, force: args.force });
      } catch (err) {
        if (!isToolError(err)) throw err;
        throw new ToolError(
          'apply_failed',
          `object ${i + 1} of ${planned.length} (${name}) failed: ${err.message}`,
          `the objects before it are applied; fix it and preview again`,
          {
            applied,
            failed: name,
            notAttempted: planned
              .slice(i + 1)
              .map((x) => label({ kind: x.r.kind, namespace: x.ns, name: x.doc.metadata.name })),
          },
        );
      }
      applied.push(name);
    }
    return { data: { applied }, text: `applied ${applied.length}: ${applied.join(', ')}` };
  },
});
