import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { ClickHouseStorage } from "../../core/storage/clickhouse/clickhouse-storage.ts";
import { SHARDING_KEYS } from "../../core/storage/clickhouse/cluster-schema.ts";
import { KEEP_EVERYTHING } from "../support/test-storages.ts";
import { freshDatabaseName, rawClient, rawSelect } from "../core/storage/clickhouse/helpers.ts";
import { startReplicatedClickHouse, type RunningReplicatedCluster } from "../services/replicated-clickhouse.ts";

/**
 * meshsight on replicated ClickHouse, as docs/deploy-clickhouse.md deploys it: a real ZooKeeper and one shard
 * of two real replicas on loopback, meshsight in cluster + replicated mode. Each adapter connects to one
 * replica, as a meshsight process next to each node would.
 */

const logger = pino({ level: process.env.E2E_LOG_LEVEL ?? "silent" });

void describe("meshsight on a shard of two ClickHouse replicas over ZooKeeper", () => {
  let cluster: RunningReplicatedCluster;
  const database = freshDatabaseName("ms_replicated");
  const storages: ClickHouseStorage[] = [];

  const openStorage = (url: string): ClickHouseStorage => {
    const storage = new ClickHouseStorage({ url, database, retention: KEEP_EVERYTHING, logger, cluster: { name: cluster.name, replicated: true } });
    storages.push(storage);
    return storage;
  };

  /** Rows of a query run on one replica's own tables. */
  const selectOn = async <Row>(url: string, sql: string): Promise<Row[]> => {
    const client = rawClient(url);
    try {
      return await rawSelect<Row>(client, sql);
    } finally {
      await client.close();
    }
  };

  before(async () => {
    cluster = await startReplicatedClickHouse("meshsight_replicated");
    // Both at once, as two meshsight processes deployed together start: the schema must converge, not fail.
    const [first, second] = cluster.replicas.map((replica) => openStorage(replica.url));
    await Promise.all([first!.start(), second!.start()]);
  });

  after(async () => {
    for (const storage of storages) await storage.close();
    await cluster?.stop();
  });

  void it("creates every table on both replicas through ON CLUSTER DDL, local tables on Replicated engines", async () => {
    const localTables = Object.keys(SHARDING_KEYS).map((table) => `${table}_local`);
    for (const replica of cluster.replicas) {
      const tables = await selectOn<{ name: string; engine: string }>(
        replica.url,
        `SELECT name, engine FROM system.tables WHERE database = '${database}' AND name LIKE '%_local' ORDER BY name`,
      );
      assert.deepEqual(
        tables.map((table) => table.name),
        [...localTables].sort(),
        `local tables on ${replica.replica}`,
      );
      for (const table of tables) assert.match(table.engine, /^Replicated\w*MergeTree$/, `${table.name} on ${replica.replica}`);
      const replication = await selectOn<{ table: string; total_replicas: number; active_replicas: number }>(
        replica.url,
        `SELECT table, total_replicas, active_replicas FROM system.replicas WHERE database = '${database}' ORDER BY table`,
      );
      assert.deepEqual(
        replication,
        [...localTables].sort().map((table) => ({ table, total_replicas: 2, active_replicas: 2 })),
        `replication seen from ${replica.replica}`,
      );
    }
    // Every CREATE went through the distributed DDL queue, the queue ON CLUSTER puts statements in.
    const queued = await selectOn<{ value: string }>(cluster.replicas[0]!.url, "SELECT value FROM system.zookeeper WHERE path = '/clickhouse/task_queue/ddl'");
    for (const table of Object.keys(SHARDING_KEYS)) {
      for (const created of [`${table}_local`, table]) {
        const pattern = new RegExp(`CREATE TABLE IF NOT EXISTS ${database}\\.${created} ON CLUSTER ${cluster.name}\\b`);
        assert.ok(
          queued.some((entry) => pattern.test(entry.value)),
          `${created} created ON CLUSTER`,
        );
      }
    }
  });
});
