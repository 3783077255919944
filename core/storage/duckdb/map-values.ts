/** MAP values arrive from getRowObjectsJS as `{ key, value }` entries; the model wants a plain record. */
export function toTextRecord(value: unknown): Record<string, string> {
  const record: Record<string, string> = {};
  for (const entry of mapEntries(value)) record[String(entry.key)] = String(entry.value);
  return record;
}

export function toNumberRecord(value: unknown): Record<string, number> {
  const record: Record<string, number> = {};
  for (const entry of mapEntries(value)) record[String(entry.key)] = Number(entry.value);
  return record;
}

function mapEntries(value: unknown): { key: unknown; value: unknown }[] {
  return Array.isArray(value) ? (value as { key: unknown; value: unknown }[]) : [];
}

/** Why `record` cannot be stored as a map of `valueType` values, or undefined when it can. */
export function invalidRecordReason(field: string, record: unknown, valueType: "string" | "number"): string | undefined {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return `${field} is not an object`;
  for (const [key, value] of Object.entries(record)) {
    if (valueType === "number" ? !(typeof value === "number" && Number.isFinite(value)) : typeof value !== "string") {
      return `${field}.${key} is not a ${valueType === "number" ? "finite number" : "string"}`;
    }
  }
  return undefined;
}

/**
 * A record as JSON text for a staging column that DuckDB casts to MAP (`CAST(CAST(x AS JSON) AS MAP(...))`):
 * appending MAP values through @duckdb/node-api builds a value object per entry and costs far more.
 * DuckDB's JSON cast refuses a lone UTF-16 surrogate escape; none arrives here, because every write
 * makes its text well-formed first (core/storage/storable-rows.ts).
 */
export function recordJson(record: Readonly<Record<string, string | number>>): string {
  return JSON.stringify(record);
}
