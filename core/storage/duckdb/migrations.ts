import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DuckDBConnection } from "@duckdb/node-api";
import { inTransaction, toNumber } from "./database.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations/", import.meta.url));
const FILE_PATTERN = /^(\d{3})_[a-z0-9_]+\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The schema as versioned SQL files, `NNN_name.sql`, applied in version order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .flatMap((file) => {
      const match = FILE_PATTERN.exec(file);
      if (!match?.[1]) return [];
      return [{ version: Number(match[1]), name: file, sql: readFileSync(`${dir}/${file}`, "utf8") }];
    })
    .sort((a, b) => a.version - b.version);
}

/**
 * Applies every migration not yet recorded in `schema_migrations`, each in its own transaction together
 * with its record, so a crash mid-way leaves either the whole version or none of it. Returns the versions
 * applied now (empty when the store was already current).
 */
export async function applyMigrations(connection: DuckDBConnection, migrations = loadMigrations()): Promise<number[]> {
  await connection.run(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)",
  );
  const reader = await connection.runAndReadAll("SELECT version FROM schema_migrations");
  const applied = new Set(reader.getColumnsJS()[0]?.map(toNumber) ?? []);
  const newlyApplied: number[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.version)) continue;
    await inTransaction(connection, async () => {
      const statements = await connection.extractStatements(migration.sql);
      for (let index = 0; index < statements.count; index++) {
        const prepared = await statements.prepare(index);
        await prepared.run();
      }
      await connection.run("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
    });
    newlyApplied.push(migration.version);
  }
  return newlyApplied;
}
