import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import type { ClickHouseClient } from "@clickhouse/client";
import { capabilitiesOf, parseServerVersion } from "../../../../core/storage/clickhouse/capabilities.ts";
import { ClickHouseConnection } from "../../../../core/storage/clickhouse/connection.ts";
import { applyMigrations, loadMigrations, renderStatement, splitStatements } from "../../../../core/storage/clickhouse/migrations.ts";
import { ClickHouseStorage } from "../../../../core/storage/clickhouse/clickhouse-storage.ts";
import { useClickHouse, type RunningService } from "../../../services/index.ts";
import { capturingLogger, freshDatabaseName, RETENTION, rawClient, rawSelect } from "./helpers.ts";

function migrationDir(files: Record<string, string>): { url: URL; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "meshsight-migrations-"));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return { url: pathToFileURL(`${dir}/`), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

void describe("migration files", () => {
  void test("statements split on a trailing semicolon, comment lines dropped", () => {
    const sql = "-- a comment; with a semicolon\nCREATE TABLE a (x String DEFAULT 'a;b');\n\n  -- another\nCREATE VIEW b AS SELECT 1;\n";
    assert.deepEqual(splitStatements(sql), ["CREATE TABLE a (x String DEFAULT 'a;b')", "CREATE VIEW b AS SELECT 1"]);
  });

  void test("the shipped migrations load in version order, each idempotent", () => {
    const migrations = loadMigrations();
    assert.deepEqual(migrations.map((m) => m.version), [1, 2, 3, 4, 5, 6, 7, 8]);
    for (const migration of migrations) {
      // An ADD COLUMN cannot say IF NOT EXISTS on 18.16: the runner takes an existing column as applied.
      for (const statement of migration.statements) assert.match(statement, /^(CREATE (TABLE|MATERIALIZED VIEW) IF NOT EXISTS |ALTER TABLE \S+ ADD COLUMN )/, statement.slice(0, 60));
      assert.doesNotMatch(migration.statements.join("\n"), /\bTTL\b/, "TTL is added by ALTER only where supported");
    }
  });

  void test("misnamed or duplicate files are refused", () => {
    const misnamed = migrationDir({ "1_bad.sql": "SELECT 1;" });
    const duplicate = migrationDir({ "001_a.sql": "SELECT 1;", "001_b.sql": "SELECT 2;" });
    try {
      assert.throws(() => loadMigrations(misnamed.url), /must be named NNN_name\.sql/);
      assert.throws(() => loadMigrations(duplicate.url), /share version 1/);
    } finally {
      misnamed.remove();
      duplicate.remove();
    }
  });

  void test("placeholders render per server", () => {
    const statement = "CREATE TABLE {{database}}.t (k {{lowCardinalityString}})";
    assert.equal(renderStatement(statement, "db1", capabilitiesOf(parseServerVersion("18.16.1"))), "CREATE TABLE db1.t (k String)");
    assert.equal(renderStatement(statement, "db1", capabilitiesOf(parseServerVersion("24.8.1"))), "CREATE TABLE db1.t (k LowCardinality(String))");
  });
});

void describe("applying migrations on a real server", () => {
  let service: RunningService;
  let client: ClickHouseClient;
  const databases: string[] = [];
  before(async () => {
    service = await useClickHouse();
    client = rawClient(service.url);
  });
  after(async () => {
    for (const database of databases) await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await client.close();
    await service.stop();
  });

  void test("a fresh database gets every migration once, recorded; a second run applies none", async () => {
    const database = freshDatabaseName();
    databases.push(database);
    const [{ version } = { version: "" }] = await rawSelect<{ version: string }>(client, "SELECT version() AS version");
    const connection = new ClickHouseConnection(client, capabilitiesOf(parseServerVersion(version)));
    const { logger } = capturingLogger();
    assert.deepEqual(await applyMigrations(connection, database, logger), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(await applyMigrations(connection, database, logger), []);
    const tables = await rawSelect<{ name: string }>(client, `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`);
    assert.deepEqual(
      tables.map((t) => t.name),
      [
        "entities",
        "entity_attributes",
        "metrics_day",
        "metrics_day_mv",
        "metrics_hour",
        "metrics_hour_mv",
        "metrics_minute",
        "probe_results",
        "samples",
        "schema_migrations",
        "spans",
        "trace_index",
        "trace_index_mv",
      ],
    );
    const recorded = await rawSelect<{ version: number; name: string }>(client, `SELECT version, name FROM ${database}.schema_migrations ORDER BY version`);
    assert.deepEqual(recorded, [
      { version: 1, name: "metrics_minute" },
      { version: 2, name: "metrics_rollups" },
      { version: 3, name: "entities" },
      { version: 4, name: "samples" },
      { version: 5, name: "spans" },
      { version: 6, name: "probe_results" },
      { version: 7, name: "entity_attributes" },
      { version: 8, name: "metric_writes" },
    ]);
  });

  void test("a column a start added before dying, unrecorded, counts as added", async () => {
    const database = freshDatabaseName();
    databases.push(database);
    const connection = new ClickHouseConnection(client, capabilitiesOf(parseServerVersion("18.16.1")));
    const { logger } = capturingLogger();
    const dir = migrationDir({
      "001_table.sql": "CREATE TABLE IF NOT EXISTS {{database}}.t1 (k String) ENGINE = MergeTree() ORDER BY k;",
      "002_column.sql": "ALTER TABLE {{database}}.t1 ADD COLUMN v UInt64;",
    });
    try {
      const all = loadMigrations(dir.url);
      assert.deepEqual(await applyMigrations(connection, database, logger, all.slice(0, 1)), [1]);
      await client.command({ query: `ALTER TABLE ${database}.t1 ADD COLUMN v UInt64` });
      assert.deepEqual(await applyMigrations(connection, database, logger, all), [2]);
      const columns = await rawSelect<{ name: string }>(client, `SELECT name FROM system.columns WHERE database = '${database}' AND table = 't1' ORDER BY name`);
      assert.deepEqual(columns.map((column) => column.name), ["k", "v"]);
    } finally {
      dir.remove();
    }
  });

  void test("a later migration is applied on top; a failing one names itself", async () => {
    const database = freshDatabaseName();
    databases.push(database);
    const connection = new ClickHouseConnection(client, capabilitiesOf(parseServerVersion("18.16.1")));
    const { logger } = capturingLogger();
    const dir = migrationDir({
      "001_first.sql": "CREATE TABLE IF NOT EXISTS {{database}}.t1 (k String) ENGINE = MergeTree() ORDER BY k;",
      "002_second.sql": "CREATE TABLE IF NOT EXISTS {{database}}.t2 (k String) ENGINE = MergeTree() ORDER BY k;",
      "003_broken.sql": "CREATE TABLE IF NOT EXISTS {{database}}.t3 (k NoSuchType) ENGINE = MergeTree() ORDER BY k;",
    });
    try {
      const all = loadMigrations(dir.url);
      assert.deepEqual(await applyMigrations(connection, database, logger, all.slice(0, 1)), [1]);
      assert.deepEqual(await applyMigrations(connection, database, logger, all.slice(0, 2)), [2]);
      await assert.rejects(applyMigrations(connection, database, logger, all), /migration 3_broken failed: .*NoSuchType/);
      const recorded = await rawSelect<{ version: number }>(client, `SELECT version FROM ${database}.schema_migrations ORDER BY version`);
      assert.deepEqual(recorded.map((r) => r.version), [1, 2], "a failed migration is not recorded, so the next start retries it");
    } finally {
      dir.remove();
    }
  });

  void test("two adapters starting at once on one database both succeed", async () => {
    const database = freshDatabaseName();
    databases.push(database);
    const open = (): ClickHouseStorage => new ClickHouseStorage({ url: service.url, database, retention: RETENTION, logger: capturingLogger().logger });
    const [a, b] = [open(), open()];
    try {
      await Promise.all([a.start(), b.start()]);
      const versions = await rawSelect<{ version: number }>(client, `SELECT DISTINCT version FROM ${database}.schema_migrations ORDER BY version`);
      assert.deepEqual(versions.map((r) => r.version), [1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
