import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expandForCluster, SHARDING_KEYS } from "../../../../core/storage/clickhouse/cluster-schema.ts";
import { nodeUrl } from "../../../../core/storage/clickhouse/cluster-nodes.ts";
import { loadMigrations, statementsFor } from "../../../../core/storage/clickhouse/migrations.ts";
import { retentionSettingOf } from "../../../../core/storage/clickhouse/retention.ts";

const plain = { name: "shards", replicated: false };
const replicated = { name: "shards", replicated: true };

void describe("cluster schema", () => {
  void it("turns a table into its local table and a Distributed table under the original name", () => {
    const [local, distributed] = expandForCluster("CREATE TABLE IF NOT EXISTS {{database}}.samples (k String) ENGINE = MergeTree() ORDER BY k", plain);
    assert.equal(local, "CREATE TABLE IF NOT EXISTS {{database}}.samples_local (k String) ENGINE = MergeTree() ORDER BY k");
    assert.equal(distributed, `CREATE TABLE IF NOT EXISTS {{database}}.samples AS {{database}}.samples_local\nENGINE = Distributed(shards, {{database}}, samples_local, cityHash64(service, time_ms, request_id))`);
  });

  void it("with replication, uses ON CLUSTER and Replicated engines keeping their own arguments", () => {
    const [local, distributed] = expandForCluster(
      "CREATE TABLE IF NOT EXISTS {{database}}.entities (k String, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY k",
      replicated,
    );
    assert.equal(
      local,
      "CREATE TABLE IF NOT EXISTS {{database}}.entities_local ON CLUSTER shards (k String, v UInt64) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{{database}}/entities_local', '{replica}', v) ORDER BY k",
    );
    assert.match(distributed ?? "", /^CREATE TABLE IF NOT EXISTS \{\{database\}\}\.entities ON CLUSTER shards AS /);
  });

  void it("points materialized views at local tables on both ends", () => {
    const [view] = expandForCluster(
      "CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.metrics_hour_mv TO {{database}}.metrics_hour AS SELECT * FROM {{database}}.metrics_minute",
      replicated,
    );
    assert.equal(
      view,
      "CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.metrics_hour_mv ON CLUSTER shards TO {{database}}.metrics_hour_local AS SELECT * FROM {{database}}.metrics_minute_local",
    );
  });

  void it("adds a column to the local table and makes the Distributed table over it again", () => {
    assert.deepEqual(expandForCluster("ALTER TABLE {{database}}.samples ADD COLUMN x String", replicated), [
      "ALTER TABLE {{database}}.samples_local ON CLUSTER shards ADD COLUMN x String",
      "DROP TABLE IF EXISTS {{database}}.samples ON CLUSTER shards",
      `CREATE TABLE IF NOT EXISTS {{database}}.samples ON CLUSTER shards AS {{database}}.samples_local\nENGINE = Distributed(shards, {{database}}, samples_local, cityHash64(service, time_ms, request_id))`,
    ]);
  });

  void it("refuses what it has no cluster form for, instead of touching one node", () => {
    assert.throws(() => expandForCluster("ALTER TABLE {{database}}.samples DROP COLUMN x", plain), /no cluster form/);
    assert.throws(() => expandForCluster("ALTER TABLE {{database}}.new_table ADD COLUMN x String", plain), /no sharding key/);
    assert.throws(() => expandForCluster("CREATE TABLE IF NOT EXISTS {{database}}.new_table (k String) ENGINE = MergeTree() ORDER BY k", plain), /no sharding key/);
    assert.throws(() => expandForCluster("CREATE TABLE IF NOT EXISTS {{database}}.samples AS {{database}}.spans", replicated), /explicit MergeTree-family ENGINE/);
  });

  void it("has a cluster form for every statement of every migration, in both modes", () => {
    for (const layout of [plain, replicated]) {
      for (const migration of loadMigrations()) for (const statement of migration.statements) assert.ok(statementsFor(statement, layout).length > 0);
    }
    const created = loadMigrations().flatMap((migration) => migration.statements.flatMap((statement) => statementsFor(statement, plain)));
    for (const table of Object.keys(SHARDING_KEYS)) {
      assert.ok(created.some((statement) => statement.includes(`Distributed(shards, {{database}}, ${table}_local,`)), `${table} is distributed`);
    }
  });

  void it("knows the retention of local tables and each node's URL", () => {
    assert.equal(retentionSettingOf("spans_local"), "spansDays");
    assert.equal(retentionSettingOf("metrics_minute"), "minuteDays");
    assert.equal(retentionSettingOf("schema_migrations"), undefined);
    assert.equal(retentionSettingOf("constructor"), undefined);
    assert.equal(nodeUrl("https://user:secret@ch-0.ch:8443", "ch-1.ch"), "https://user:secret@ch-1.ch:8443");
    assert.equal(nodeUrl("http://127.0.0.1:8123", "::1"), "http://[::1]:8123");
  });

  void it("shards every table by a function of the row, so a retried batch reaches the shards that may already hold it", () => {
    for (const [table, key] of Object.entries(SHARDING_KEYS)) assert.doesNotMatch(key, /rand|now|rowNumber/i, table);
  });
});
