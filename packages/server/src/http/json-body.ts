/**
 * Request bodies as JSON, for the API and SCIM alike. JSON.parse takes any depth, but what reads
 * the value afterwards (redaction, the audit record's JSON.stringify) recurses, and a body of
 * 100,000 nested brackets overflowed the stack there: a 500 and no audit record. No request
 * Airlock takes nests anywhere near MAX_JSON_DEPTH (policies and documents arrive as strings).
 */
export const MAX_JSON_DEPTH = 32;

export type JsonBody = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

/** The body's value, or why it is refused; an empty body is `empty`. */
export function parseJsonBody(text: string, empty: unknown): JsonBody {
  if (text.trim() === '') return { ok: true, value: empty };
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { ok: false, message: 'The request body is not valid JSON.' };
  }
  if (depthOver(value, MAX_JSON_DEPTH)) {
    return { ok: false, message: `The request body nests objects and lists more than ${MAX_JSON_DEPTH} levels deep; no request needs that.` };
  }
  return { ok: true, value };
}

/** Whether the value nests deeper than `limit`, found without recursion. */
function depthOver(value: unknown, limit: number): boolean {
  const pending: { readonly value: unknown; readonly depth: number }[] = [{ value, depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > limit) return true;
    for (const item of Object.values(next.value)) pending.push({ value: item, depth });
  }
  return false;
}
