import { MAP, mapValue, VARCHAR, DOUBLE, type DuckDBMapValue } from "@duckdb/node-api";

/** The MAP column types the adapter stores model records in. */
export const TEXT_MAP = MAP(VARCHAR, VARCHAR);
export const NUMBER_MAP = MAP(VARCHAR, DOUBLE);

/** A model record as a DuckDB MAP value for an appender. */
export function toMapValue(record: Readonly<Record<string, string | number>>): DuckDBMapValue {
  return mapValue(Object.entries(record).map(([key, value]) => ({ key, value })));
}

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
