import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import { duckdbApi } from "./duckdb-api.ts";
import type { EntityKind, EntityRecord, Layer } from "../../model/dimensions.ts";
import { mergedAttributes } from "../entity-attributes.ts";
import type { EntityQuery } from "../port.ts";
import { integerParam, toNumber, toText } from "./database.ts";
import { StagingTable } from "./staging-table.ts";
const { MAP, mapValue, VARCHAR } = duckdbApi;

const ATTRIBUTES_MAP = MAP(VARCHAR, VARCHAR);

/** Ties go to the later write: a re-sent entity with the same timestamp may carry a corrected layer. */
const UPSERT_ENTITIES = `INSERT INTO entities SELECT * FROM entities_staging
ON CONFLICT (kind, service, name) DO UPDATE SET
  layer = excluded.layer, attributes = excluded.attributes, last_seen_ms = excluded.last_seen_ms
WHERE excluded.last_seen_ms >= entities.last_seen_ms`;

/** Ties go to the later write: a re-sent attribute with the same timestamp may carry a corrected value. */
const UPSERT_ATTRIBUTES = `INSERT INTO entity_attributes SELECT * FROM entity_attributes_staging
ON CONFLICT (kind, service, name, key) DO UPDATE SET value = excluded.value, last_seen_ms = excluded.last_seen_ms
WHERE excluded.last_seen_ms >= entity_attributes.last_seen_ms`;

interface AttributeRow {
  row: EntityRecord;
  key: string;
  value: string;
}

/**
 * Upserts entities so the row with the latest lastSeenMs wins (layer, last seen), in whatever order
 * writers deliver them, and each attribute key keeps the value of the latest row that carried it
 * (migrations/003_entity_attributes.sql). Within a batch the latest per key is picked in memory because
 * DuckDB refuses to upsert one key twice in a statement. The caller provides the transaction.
 */
export class EntityWriter {
  private readonly entities: StagingTable;
  private readonly attributes: StagingTable;

  constructor(connection: DuckDBConnection) {
    this.entities = new StagingTable(
      connection,
      "entities_staging",
      "kind VARCHAR, service VARCHAR, name VARCHAR, layer VARCHAR, attributes MAP(VARCHAR, VARCHAR), last_seen_ms BIGINT",
      UPSERT_ENTITIES,
    );
    this.attributes = new StagingTable(
      connection,
      "entity_attributes_staging",
      "kind VARCHAR, service VARCHAR, name VARCHAR, key VARCHAR, value VARCHAR, last_seen_ms BIGINT",
      UPSERT_ATTRIBUTES,
    );
  }

  async prepare(): Promise<void> {
    await this.entities.prepare();
    await this.attributes.prepare();
  }

  async write(rows: readonly EntityRecord[]): Promise<void> {
    await this.attributes.write(latestAttributes(rows), (appender, { row, key, value }) => {
      appender.appendVarchar(row.kind);
      appender.appendVarchar(row.service);
      appender.appendVarchar(row.name);
      appender.appendVarchar(key);
      appender.appendVarchar(value);
      appender.appendBigInt(BigInt(row.lastSeenMs));
    });
    await this.entities.write(latestPerKey(rows), (appender, row) => {
      appender.appendVarchar(row.kind);
      appender.appendVarchar(row.service);
      appender.appendVarchar(row.name);
      appender.appendVarchar(row.layer);
      appender.appendMap(mapValue(Object.entries(row.attributes).map(([key, value]) => ({ key, value }))), ATTRIBUTES_MAP);
      appender.appendBigInt(BigInt(row.lastSeenMs));
    });
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

function latestAttributes(rows: readonly EntityRecord[]): Iterable<AttributeRow> {
  const latest = new Map<string, AttributeRow>();
  for (const row of rows) {
    for (const [key, value] of Object.entries(row.attributes)) {
      const id = JSON.stringify([row.kind, row.service, row.name, key]);
      const seen = latest.get(id);
      if (!seen || row.lastSeenMs >= seen.row.lastSeenMs) latest.set(id, { row, key, value });
    }
  }
  return latest.values();
}

export async function listEntities(connection: DuckDBConnection, query: EntityQuery): Promise<EntityRecord[]> {
  const values: DuckDBValue[] = [query.kind, integerParam("seenSinceMs", query.seenSinceMs, Math.ceil)];
  let listed = "SELECT * FROM entities WHERE kind = $1 AND last_seen_ms >= $2";
  if (query.service !== undefined) {
    values.push(query.service);
    listed += ` AND service = $${values.length}`;
  }
  values.push(integerParam("limit", Math.max(0, query.limit), Math.floor));
  listed += ` ORDER BY service, name LIMIT $${values.length}`;
  // One list of key/value structs per entity keeps keys and values aligned; no per-key rows gives NULL.
  const sql = `SELECT e.kind, e.service, e.name, e.layer, e.attributes, e.last_seen_ms,
    list({'key': a.key, 'value': a.value}) FILTER (WHERE a.key IS NOT NULL) AS keyed_attributes
  FROM (${listed}) e LEFT JOIN entity_attributes a ON a.kind = e.kind AND a.service = e.service AND a.name = e.name
  GROUP BY e.kind, e.service, e.name, e.layer, e.attributes, e.last_seen_ms
  ORDER BY e.service, e.name`;
  const reader = await connection.runAndReadAll(sql, values);
  return reader.getRowObjectsJS().map(toEntity);
}

function toEntity(row: Record<string, unknown>): EntityRecord {
  return {
    kind: toText(row.kind) as EntityKind,
    service: toText(row.service),
    name: toText(row.name),
    layer: toText(row.layer) as Layer,
    attributes: keyedAttributes(toAttributes(row.attributes), row.keyed_attributes),
    lastSeenMs: toNumber(row.last_seen_ms),
  };
}

/** MAP values (and the per-key list) arrive as `{ key, value }` entries; the model wants a plain record. */
function toAttributes(value: unknown): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (!Array.isArray(value)) return attributes;
  for (const entry of value as { key: unknown; value: unknown }[]) attributes[toText(entry.key)] = toText(entry.value);
  return attributes;
}

function keyedAttributes(latestRow: Record<string, string>, keyed: unknown): Record<string, string> {
  const perKey = toAttributes(keyed);
  return mergedAttributes(latestRow, Object.keys(perKey), Object.values(perKey));
}
