/** DynamoDB attribute values to and from plain JSON (no extra SDK package). */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Plain JSON to an attribute value: arrays become lists (L), objects maps (M). */
export function toAttr(v: Json): AttributeValue {
  if (v === null) return { NULL: true };
  if (typeof v === 'number') return { N: String(v) };
  if (typeof v === 'boolean') return { BOOL: v };
  if (typeof v === 'string') return { S: v };
  if (Array.isArray(v)) return { L: v.map(toAttr) };
  return { M: toItem(v) };
}

export function toItem(item: Record<string, Json>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, toAttr(v)]));
}

export function fromAttr(a: AttributeValue): unknown {
  if (a.S !== undefined) return a.S;
  if (a.N !== undefined) return Number(a.N);
  if (a.BOOL !== undefined) return a.BOOL;
  if (a.NULL) return null;
  if (a.L) return a.L.map(fromAttr);
  if (a.M) return fromItem(a.M);
  if (a.SS) return a.SS;
  if (a.NS) return a.NS.map(Number);
  if (a.B) return `<binary ${a.B.length} bytes>`;
  if (a.BS) return a.BS.map((b) => `<binary ${b.length} bytes>`);
  return undefined;
}

export function fromItem(item: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, fromAttr(v)]));
}
