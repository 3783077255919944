/** Long strings inside a record (user agents, paths) are cut to this before giving up on the record's shape. */
const MAX_STRING_CHARS = 256;

/**
 * JSON of `value` in at most `maxChars` characters, always valid JSON: first as is, then with long strings
 * cut, then as `{"truncated":true,"prefix":"..."}`. Never throws (cycles and BigInts become a marker),
 * because a sample is evidence, not worth failing a batch over.
 */
export function boundedJson(value: unknown, maxChars: number): string {
  let json: string;
  try {
    json = JSON.stringify(value) ?? "null";
    if (json.length <= maxChars) return json;
    json = JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === "string" && inner.length > MAX_STRING_CHARS ? `${inner.slice(0, MAX_STRING_CHARS)}…` : inner,
    );
    if (json.length <= maxChars) return json;
  } catch {
    return '{"unserializable":true}';
  }
  // Escaping can at most double the prefix (quotes, backslashes), so half the budget always fits.
  const truncated = JSON.stringify({ truncated: true, prefix: json.slice(0, Math.max(0, Math.floor((maxChars - 40) / 2))) });
  return truncated.length <= maxChars ? truncated : '{"truncated":true}';
}
