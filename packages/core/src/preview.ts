import { byteLength, decodeCursor, encodeCursor } from './output.js';
import type { Plan, PreviewItem } from './plugin.js';

/** A dry run's answer, before redaction and shaping. */
export interface DryRunAnswer {
  data: Record<string, unknown>;
  text: string;
}

export interface PreviewInput {
  tool: string;
  plan: Plan;
  /** The plan's text (the tool's, or core's rendering of the preview). */
  previewText: string;
  token: string;
  /** Token id: a preview cursor names it, so a page is served from the same held plan. */
  id: string;
  expiresAt: number;
  budget: number;
  /** First item to show (from a preview cursor). */
  offset: number;
}

/** Where a preview page continues: the held plan (by approval id) and the first item of the page. */
export function previewCursor(id: string, offset: number): string {
  return encodeCursor({ p: id, o: offset });
}

export function readPreviewCursor(cursor: string): { id: string; offset: number } | undefined {
  try {
    const c = decodeCursor<{ p?: unknown; o?: unknown }>(cursor);
    if (typeof c.p === 'string' && Number.isInteger(c.o) && (c.o as number) >= 0)
      return { id: c.p, offset: c.o as number };
  } catch {}
  return undefined;
}

/**
 * The dry-run answer, fitted to the budget. Whole when it fits. Otherwise the summary, the preview
 * items that fit from `offset`, how many more, and a cursor to page the rest — always with the token.
 */
export function dryRunAnswer(p: PreviewInput): DryRunAnswer {
  const expiresAt = new Date(p.expiresAt).toISOString();
  const approveLine = `to apply exactly this change, call ${p.tool} again with the same arguments and approval: "${p.token}" (expires ${expiresAt})`;
  const summary = p.plan.summary;
  const head = `dry run: nothing was changed${summary ? `\n${summary}` : ''}`;
  if (p.offset === 0) {
    const data = {
      dryRun: true,
      approval: p.token,
      expiresAt,
      ...(summary ? { summary } : {}),
      preview: p.plan.preview,
    };
    const text = `${head}\n${p.previewText}\n${approveLine}`;
    // the budget counts the structured JSON and the text together
    if (byteLength(JSON.stringify(data)) + byteLength(text) <= p.budget) return { data, text };
  }
  const items: PreviewItem[] = p.plan.items ?? p.previewText.split('\n').map((text) => ({ text }));
  const total = items.length;
  const offset = Math.min(p.offset, total);
  const page = { offset, total, items: [] as unknown[], more: 0 };
  const data: Record<string, unknown> = {
    dryRun: true,
    approval: p.token,
    expiresAt,
    ...(summary ? { summary } : {}),
    previewPage: page,
  };
  const lines: string[] = [];
  // room for the cursor (in the data and in the "N more" line) and the page's own numbers
  const reserve = 2 * previewCursor(p.id, total).length + 260 + 2 * byteLength(p.tool);
  let used = byteLength(JSON.stringify(data)) + byteLength(head) + byteLength(approveLine) + reserve;
  for (let i = offset; i < total; i++) {
    const item = items[i]!;
    const value = item.data ?? item.text;
    const size = byteLength(JSON.stringify(value)) + 1 + byteLength(item.text) + 1;
    if (used + size > p.budget) break;
    page.items.push(value);
    lines.push(item.text);
    used += size;
  }
  const next = offset + page.items.length;
  page.more = total - next;
  const shown =
    page.items.length > 0 ? `preview items ${offset + 1}-${next} of ${total}:` : `preview: ${total} items`;
  const textParts = [head, shown, ...lines];
  if (page.more > 0) {
    const cursor = previewCursor(p.id, next);
    (page as Record<string, unknown>).cursor = cursor;
    textParts.push(
      `${page.more} more: call ${p.tool} again with the same arguments and cursor: "${cursor}" to see them (the approval stays valid), or a larger maxBytes`,
    );
  }
  textParts.push(approveLine);
  return { data, text: textParts.join('\n') };
}
