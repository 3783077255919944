import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { ClickHouseCapabilities } from "./capabilities.ts";
import { expandForCluster, onClusterClause, type ClusterLayout } from "./cluster-schema.ts";
import type { ClickHouseConnection } from "./connection.ts";
import { identifier } from "./sql-literals.ts";

/**
 * Versioned schema: `sql/NNN_name.sql`, applied in order at start and recorded in
 * `<database>.schema_migrations`. Every statement is idempotent (`IF NOT EXISTS`; an ADD COLUMN, which
 * 18.16 cannot make conditional, counts as applied when the column exists), so two processes starting at
 * once, or a start that died half way, converge to the same schema. Files use two
 * placeholders: `{{database}}` and `{{lowCardinalityString}}` (LowCardinality(String) where the server
 * has it without experimental settings, plain String on 18.x).
 *
 * In cluster mode (a `layout`) each statement is expanded by cluster-schema.ts and `schema_migrations`
 * is per node: without ZooKeeper the caller applies the migrations to every node, each recording its
 * own; with it, statements run `ON CLUSTER` and the connected node records them.
 */

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

const MIGRATION_FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;
const SQL_DIR = new URL("./sql/", import.meta.url);

/** Splits a file into statements: `;` at the end of a line ends one; `--` comment lines are dropped. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("--"))
    .join("\n");
  return withoutComments
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

export function loadMigrations(dir: URL = SQL_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith(".sql"))
    .map((file) => {
      const match = MIGRATION_FILE.exec(file);
      if (!match) throw new Error(`migration file ${file} must be named NNN_name.sql`);
      return { version: Number(match[1]), name: match[2] ?? "", statements: splitStatements(readFileSync(new URL(file, dir), "utf8")) };
    })
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]?.version === migrations[i - 1]?.version) throw new Error(`two migrations share version ${migrations[i]?.version}`);
  }
  return migrations;
}

export function renderStatement(statement: string, database: string, capabilities: ClickHouseCapabilities): string {
  return statement
    .replaceAll("{{database}}", identifier(database))
    .replaceAll("{{lowCardinalityString}}", capabilities.lowCardinality ? "LowCardinality(String)" : "String");
}

/** The statements a migration statement stands for: itself on a single server, its cluster form in a cluster. */
export function statementsFor(statement: string, layout: ClusterLayout | undefined): string[] {
  return layout === undefined ? [statement] : expandForCluster(statement, layout);
}

/** An ADD COLUMN refused because the column is there: applied before, by a start that died or a peer. */
function isColumnAddedBefore(statement: string, error: unknown): boolean {
  return / ADD COLUMN /.test(statement) && error instanceof Error && error.message.includes("column with this name already exists");
}

/** Versions recorded on the connected node; none when meshsight never migrated the database there. */
async function recordedVersions(connection: ClickHouseConnection, database: string): Promise<Set<number>> {
  const [table] = await connection.select<{ present: number }>(
    "SELECT count() AS present FROM system.tables WHERE database = {database:String} AND name = 'schema_migrations'",
    { database },
  );
  if (Number(table?.present ?? 0) === 0) return new Set();
  const rows = await connection.select<{ version: number }>(`SELECT DISTINCT version FROM ${identifier(database)}.schema_migrations`);
  return new Set(rows.map((row) => Number(row.version)));
}

/** Applies the migrations not yet recorded; returns the versions it applied. */
export async function applyMigrations(
  connection: ClickHouseConnection,
  database: string,
  logger: Logger,
  migrations: readonly Migration[] = loadMigrations(),
  layout?: ClusterLayout,
): Promise<number[]> {
  const db = identifier(database);
  const applied = await recordedVersions(connection, database);
  const pending = migrations.filter((migration) => !applied.has(migration.version));
  // Up to date: no DDL at all. ON CLUSTER waits for every host of the cluster, so a restart while a
  // replica is down would otherwise wait for it until the server's distributed_ddl_task_timeout.
  if (pending.length === 0) return [];
  const onCluster = onClusterClause(layout);
  await connection.command(`CREATE DATABASE IF NOT EXISTS ${db}${onCluster}`);
  await connection.command(
    `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations${onCluster} (version UInt32, name String, applied_at DateTime('UTC'))
     ENGINE = ReplacingMergeTree() ORDER BY version`,
  );
  const newlyApplied: number[] = [];
  for (const migration of pending) {
    for (const statement of migration.statements.flatMap((each) => statementsFor(each, layout))) {
      try {
        await connection.command(renderStatement(statement, database, connection.capabilities));
      } catch (error) {
        if (isColumnAddedBefore(statement, error)) continue;
        throw new Error(`ClickHouse migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
    }
    await connection.insert(`${db}.schema_migrations`, [
      { version: migration.version, name: migration.name, applied_at: Math.floor(Date.now() / 1000) },
    ]);
    newlyApplied.push(migration.version);
    logger.info({ database, migration: `${migration.version}_${migration.name}` }, "clickhouse migration applied");
  }
  return newlyApplied;
}
