import { MAP, mapValue, VARCHAR, type DuckDBConnection, type DuckDBValue } from "@duckdb/node-api";
import type { EntityKind, EntityRecord, Layer } from "../../model/dimensions.ts";
import type { EntityQuery } from "../port.ts";
import { integerParam, toNumber, toText } from "./database.ts";

const STAGING_TABLE = "entities_staging";
const ATTRIBUTES_MAP = MAP(VARCHAR, VARCHAR);

/**
 * Upserts entities so the row with the latest lastSeenMs wins whole (layer and attributes included), in
 * whatever order writers deliver them. Within a batch the latest per key is picked in memory because
 * DuckDB refuses to upsert one key twice in a statement.
 */
export class EntityWriter {
  constructor(private readonly connection: DuckDBConnection) {}

  async prepare(): Promise<void> {
    await this.connection.run(`CREATE TEMP TABLE IF NOT EXISTS ${STAGING_TABLE} AS SELECT * FROM entities WITH NO DATA`);
  }

  async write(rows: readonly EntityRecord[]): Promise<void> {
    await this.connection.run(`DELETE FROM ${STAGING_TABLE}`);
    const appender = await this.connection.createAppender(STAGING_TABLE, "main", "temp");
    let isComplete = false;
    try {
      for (const row of latestPerKey(rows)) {
        appender.appendVarchar(row.kind);
        appender.appendVarchar(row.service);
        appender.appendVarchar(row.name);
        appender.appendVarchar(row.layer);
        appender.appendMap(mapValue(Object.entries(row.attributes).map(([key, value]) => ({ key, value }))), ATTRIBUTES_MAP);
        appender.appendBigInt(BigInt(row.lastSeenMs));
        appender.endRow();
      }
      isComplete = true;
    } finally {
      if (!isComplete) appender.clear();
      appender.closeSync();
    }
    // Ties go to the later write: a re-sent entity with the same timestamp may carry corrected attributes.
    await this.connection.run(`INSERT INTO entities SELECT * FROM ${STAGING_TABLE}
ON CONFLICT (kind, service, name) DO UPDATE SET
  layer = excluded.layer, attributes = excluded.attributes, last_seen_ms = excluded.last_seen_ms
WHERE excluded.last_seen_ms >= entities.last_seen_ms`);
  }
}

/** Why an entity cannot be stored, or undefined when it can. */
export function invalidEntityReason(row: EntityRecord): string | undefined {
  for (const field of ["kind", "service", "name", "layer"] as const) {
    if (typeof row[field] !== "string") return `${field} is not a string`;
  }
  if (!Number.isSafeInteger(row.lastSeenMs) || row.lastSeenMs < 0) return "lastSeenMs is not a non-negative integer";
  if (typeof row.attributes !== "object" || row.attributes === null) return "attributes is not an object";
  for (const value of Object.values(row.attributes)) {
    if (typeof value !== "string") return "an attribute value is not a string";
  }
  return undefined;
}

function latestPerKey(rows: readonly EntityRecord[]): EntityRecord[] {
  const latest = new Map<string, EntityRecord>();
  for (const row of rows) {
    const key = JSON.stringify([row.kind, row.service, row.name]);
    const seen = latest.get(key);
    if (!seen || row.lastSeenMs >= seen.lastSeenMs) latest.set(key, row);
  }
  return [...latest.values()];
}

export async function listEntities(connection: DuckDBConnection, query: EntityQuery): Promise<EntityRecord[]> {
  const values: DuckDBValue[] = [query.kind, integerParam("seenSinceMs", query.seenSinceMs, Math.ceil)];
  let sql = "SELECT * FROM entities WHERE kind = $1 AND last_seen_ms >= $2";
  if (query.service !== undefined) {
    values.push(query.service);
    sql += ` AND service = $${values.length}`;
  }
  values.push(integerParam("limit", Math.max(0, query.limit), Math.floor));
  sql += ` ORDER BY service, name LIMIT $${values.length}`;
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowObjectsJS().map(toEntity);
}

function toEntity(row: Record<string, unknown>): EntityRecord {
  return {
    kind: toText(row.kind) as EntityKind,
    service: toText(row.service),
    name: toText(row.name),
    layer: toText(row.layer) as Layer,
    attributes: toAttributes(row.attributes),
    lastSeenMs: toNumber(row.last_seen_ms),
  };
}

/** MAP values arrive as `{ key, value }` entries; the model wants a plain record. */
function toAttributes(value: unknown): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (!Array.isArray(value)) return attributes;
  for (const entry of value as { key: unknown; value: unknown }[]) attributes[toText(entry.key)] = toText(entry.value);
  return attributes;
}
