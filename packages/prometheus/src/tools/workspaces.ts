import { ErrorCodes, fitPage, pageNotice, ToolError, table } from '@infra-mcp/core';
import { z } from 'zod';
import { type CredentialConfig, controlPlaneUrl, type SignedFetchInit, sigv4Fetch } from '../aws.js';
import { tool } from './common.js';

/** The sigv4 block fields the workspaces tool reads. */
export type AmpSigV4 = CredentialConfig & { service?: string; controlPlaneUrl?: string };

/**
 * What the workspaces tool needs from the plugin client: the instance's sigv4 block (either as
 * `sigv4` or as `config.sigv4`) and, optionally, its own signed fetch. Without `fetchSigned` the
 * tool signs with {@link sigv4Fetch} and the global fetch (the control plane is a public AWS
 * endpoint, not the instance URL, so the instance's TLS options do not apply to it).
 */
export interface AmpClientLike {
  sigv4?: AmpSigV4;
  config?: { sigv4?: AmpSigV4 };
  fetchSigned?: (url: URL, init: SignedFetchInit) => Promise<Response>;
  /** Scrub known secrets from backend text (before it is cut to a snippet). */
  redact?: (text: string) => string;
}

const workspaceSchema = z.object({
  alias: z.string().nullable(),
  id: z.string(),
  status: z.string(),
  prometheusEndpoint: z.string(),
  created: z.string().nullable(),
});

const outputSchema = z.object({
  region: z.string(),
  workspaces: z.array(workspaceSchema),
  nextCursor: z.string().optional().describe('Pass as cursor for the next page'),
});

type Workspace = z.infer<typeof workspaceSchema>;

interface ListWorkspacesResponse {
  workspaces?: {
    alias?: string;
    workspaceId?: string;
    status?: { statusCode?: string };
    createdAt?: number | string;
    prometheusEndpoint?: string;
  }[];
  nextToken?: string;
}

function isoSeconds(createdAt: number | string | undefined): string | null {
  if (createdAt === undefined || createdAt === null) return null;
  const d = typeof createdAt === 'number' ? new Date(createdAt * 1000) : new Date(createdAt);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

async function errorMessage(res: Response, redact: (text: string) => string = (t) => t): Promise<string> {
  const text = (await res.text().catch(() => '')).trim();
  try {
    const body = JSON.parse(text);
    const message = body?.message ?? body?.Message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON
  }
  // redact, then cut: a secret cut in two is no longer recognised
  const snippet = redact(text.replace(/\s+/g, ' '));
  return snippet.length > 200 ? `${snippet.slice(0, 199)}…` : snippet;
}

export const workspacesTool = tool({
  name: 'workspaces',
  title: 'AMP workspaces',
  description:
    'List Amazon Managed Prometheus workspaces in the configured AWS region (alias, id, status, query endpoint). Needs sigv4 on the instance.',
  input: z.object({
    alias: z.string().min(1).max(100).optional().describe('Only workspaces whose alias starts with this'),
    limit: z.number().int().min(1).max(1000).default(100).describe('Page size'),
    cursor: z.string().min(1).max(4096).optional().describe('nextCursor of the previous page'),
  }),
  output: outputSchema,
  effect: 'read',
  toolset: 'amp',
  run: async (args, ctx) => {
    const client = (ctx.client ?? {}) as AmpClientLike;
    const sigv4 = client.sigv4 ?? client.config?.sigv4;
    if (!sigv4) {
      throw new ToolError(
        ErrorCodes.notConfigured,
        `instance "${ctx.instance}" has no sigv4 configuration, so it is not an Amazon Managed Prometheus workspace`,
        'add sigv4: { region: ... } to this instance in the config (or pick an AMP instance with the instance argument)',
      );
    }
    const service = sigv4.service ?? 'aps';
    const url = controlPlaneUrl(sigv4);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/workspaces`;
    url.search = '';
    url.searchParams.set('maxResults', String(args.limit));
    if (args.alias) url.searchParams.set('alias', args.alias);
    if (args.cursor) url.searchParams.set('nextToken', args.cursor);
    const init: SignedFetchInit = {
      method: 'GET',
      headers: { accept: 'application/json' },
      signal: ctx.signal,
    };

    let res: Response;
    try {
      res = client.fetchSigned
        ? await client.fetchSigned(url, init)
        : await sigv4Fetch({ ...sigv4, service }, url, init);
    } catch (err) {
      if (ctx.signal.aborted || (err as Error).name === 'ToolError') throw err;
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ToolError(
        ErrorCodes.backendUnreachable,
        `cannot reach the AMP control plane at ${url.origin}: ${cause}`,
        'check network access to aps.<region>.amazonaws.com (or sigv4.controlPlaneUrl)',
      );
    }
    if (res.status === 401 || res.status === 403) {
      throw new ToolError(
        'unauthorized',
        `the AMP control plane refused the request (HTTP ${res.status}): ${await errorMessage(res, client.redact)}`,
        `check the AWS credentials of this instance (sigv4 profile/role) and that they allow aps:ListWorkspaces in ${sigv4.region}`,
      );
    }
    if (!res.ok) {
      throw new ToolError(
        ErrorCodes.backendError,
        `the AMP control plane answered HTTP ${res.status}: ${await errorMessage(res, client.redact)}`,
        'try again; check sigv4.region',
      );
    }
    const body = (await res.json()) as ListWorkspacesResponse;
    const all: Workspace[] = (body.workspaces ?? []).map((w) => ({
      alias: w.alias ?? null,
      id: String(w.workspaceId ?? ''),
      status: w.status?.statusCode ?? 'UNKNOWN',
      prometheusEndpoint:
        w.prometheusEndpoint ??
        `https://aps-workspaces.${sigv4.region}.amazonaws.com/workspaces/${w.workspaceId}/`,
      created: isoSeconds(w.createdAt),
    }));
    const row = (w: Workspace) => [w.alias, w.id, w.status, w.prometheusEndpoint, w.created];
    const { data, text } = fitPage({
      items: all,
      budget: ctx.budget,
      line: (w) => row(w).join('  '),
      build: (page) => {
        // Dropped rows are not lost: page again from the first dropped one by asking for fewer.
        const nextCursor = page.omitted === 0 ? body.nextToken : undefined;
        const lines = [
          all.length === 0
            ? `no AMP workspaces in ${sigv4.region}${args.alias ? ` with alias prefix "${args.alias}"` : ''}`
            : table(['alias', 'id', 'status', 'prometheusEndpoint', 'created'], page.items.map(row)),
          ...pageNotice(page, 'workspaces', 'alias or a smaller limit'),
        ];
        if (nextCursor) lines.push(`more workspaces: call again with cursor "${nextCursor}"`);
        return {
          data: { region: sigv4.region, workspaces: page.items, ...(nextCursor ? { nextCursor } : {}) },
          text: lines.join('\n'),
        };
      },
    });
    return { data, text, truncated: data.workspaces.length < all.length };
  },
});
