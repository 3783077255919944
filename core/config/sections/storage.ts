import { z } from "zod";
import { identifierField, integerField, optionalUrlField, switchField, textField } from "../fields.ts";
import { defineSection } from "../section.ts";

const days = (defaultDays: number) => integerField(1, 3_650).default(defaultDays);

/** A `remote_servers` cluster name; spliced into DDL (`ON CLUSTER`, `Distributed(...)`), so kept to a safe alphabet. */
const clusterNameField = () => {
  const expected = "expected a cluster name from remote_servers (letters, digits, underscore; not starting with a digit)";
  return z.string({ error: expected }).trim().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { error: expected }).optional();
};

export const storageSection = defineSection(
  z.strictObject({
    dataDir: textField("./data"),
    duckdbMemoryLimitMiB: integerField(64, 1_048_576).default(1_024),
    clickhouse: z
      .strictObject({
        url: optionalUrlField(["http", "https"]),
        database: identifierField("meshsight"),
        cluster: clusterNameField(),
        replicated: switchField(false),
      })
      .prefault({}),
    retention: z
      .strictObject({
        minuteDays: days(7),
        hourDays: days(30),
        dayDays: days(365),
        samplesDays: days(3),
        spansDays: days(7),
        probeResultsDays: days(14),
      })
      .prefault({}),
  }),
  [
    {
      key: "dataDir",
      env: "MESHSIGHT_DATA_DIR",
      flag: "data-dir",
      description: "Directory of local state: the embedded DuckDB file (meshsight.duckdb, unused with ClickHouse), tailed-log offsets and probe cases defined through the API.",
    },
    {
      key: "duckdbMemoryLimitMiB",
      env: "MESHSIGHT_DUCKDB_MEMORY_LIMIT_MIB",
      flag: "duckdb-memory-limit-mib",
      description: "Memory the embedded DuckDB may use (its buffer pool and queries; beyond, it spills to disk or refuses the query), so an entity flood cannot grow the process without bound.",
    },
    {
      key: "clickhouse.url",
      env: "MESHSIGHT_CLICKHOUSE_URL",
      flag: "clickhouse-url",
      description: "ClickHouse HTTP URL (http://user:password@host:8123); when set, ClickHouse replaces the embedded DuckDB.",
    },
    { key: "clickhouse.database", env: "MESHSIGHT_CLICKHOUSE_DATABASE", flag: "clickhouse-database", description: "ClickHouse database, created at start when missing." },
    {
      key: "clickhouse.cluster",
      env: "MESHSIGHT_CLICKHOUSE_CLUSTER",
      flag: "clickhouse-cluster",
      description: "Cluster name from the servers' remote_servers; when set, each node gets <table>_local tables and Distributed tables under the usual names (docs/deploy-clickhouse.md).",
    },
    {
      key: "clickhouse.replicated",
      env: "MESHSIGHT_CLICKHOUSE_REPLICATED",
      flag: "clickhouse-replicated",
      description: "With a cluster whose servers have ZooKeeper/Keeper: ReplicatedMergeTree local tables and ON CLUSTER DDL; without it, every node's tables are created by connecting to each node.",
    },
    { key: "retention.minuteDays", env: "MESHSIGHT_RETENTION_MINUTE_DAYS", flag: "retention-minute-days", description: "Days minute metrics are kept." },
    { key: "retention.hourDays", env: "MESHSIGHT_RETENTION_HOUR_DAYS", flag: "retention-hour-days", description: "Days hourly rollups are kept." },
    { key: "retention.dayDays", env: "MESHSIGHT_RETENTION_DAY_DAYS", flag: "retention-day-days", description: "Days daily rollups are kept." },
    { key: "retention.samplesDays", env: "MESHSIGHT_RETENTION_SAMPLES_DAYS", flag: "retention-samples-days", description: "Days sampled raw records are kept." },
    { key: "retention.spansDays", env: "MESHSIGHT_RETENTION_SPANS_DAYS", flag: "retention-spans-days", description: "Days trace spans are kept." },
    {
      key: "retention.probeResultsDays",
      env: "MESHSIGHT_RETENTION_PROBE_RESULTS_DAYS",
      flag: "retention-probe-results-days",
      description: "Days probe results are kept.",
    },
  ],
);
