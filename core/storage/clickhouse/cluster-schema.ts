/**
 * The schema of cluster mode, derived from the single-server migrations (sql/NNN_name.sql) so one set of
 * files serves both: every table becomes `<table>_local` on each node plus a `Distributed` table under
 * the table's own name, so the readers and the writer use the same names in both modes. Materialized
 * views read and fill the local tables, so each shard keeps its own rollups and trace index.
 *
 * With `replicated` (servers with ZooKeeper/Keeper), local tables use the Replicated* engines and every
 * statement runs once with `ON CLUSTER`; without it, ON CLUSTER cannot work (it queues DDL in ZooKeeper),
 * so the caller runs the statements on each node itself.
 */

export interface ClusterLayout {
  /** The `remote_servers` cluster name. */
  name: string;
  /** Replicated* engines and `ON CLUSTER` DDL; needs ZooKeeper/Keeper and the `{shard}`/`{replica}` macros. */
  replicated: boolean;
}

export const LOCAL_TABLE_SUFFIX = "_local";

/**
 * How each table's inserts spread over shards. Rows that merge (same key in a Summing/Replacing table)
 * go to the same shard so merges can combine them, and a trace's spans stay together; reads aggregate
 * with GROUP BY anyway, so any key is correct, these ones keep shards compact. Every key is a function
 * of the row (no `rand()`): a retried batch must split over the shards as its first attempt did, so each
 * shard's Replicated table recognises its block and drops the repeat. A new table in a migration must be
 * added here: cluster mode refuses a table it has no key for.
 */
export const SHARDING_KEYS: Readonly<Record<string, string>> = {
  metrics_minute: "cityHash64(scope, service, name)",
  metrics_hour: "cityHash64(scope, service, name)",
  metrics_day: "cityHash64(scope, service, name)",
  entities: "cityHash64(kind, service, name)",
  entity_attributes: "cityHash64(kind, service, name)",
  samples: "cityHash64(service, time_ms, request_id)",
  spans: "cityHash64(trace_id)",
  trace_index: "cityHash64(trace_id)",
  probe_results: "cityHash64(probe, target)",
};

/** Where Replicated* tables keep their state in ZooKeeper; `{shard}` and `{replica}` are server macros. */
export const REPLICATION_PATH_PREFIX = "/clickhouse/tables/{shard}";

const CREATE_TABLE = /^CREATE TABLE IF NOT EXISTS \{\{database\}\}\.([a-z0-9_]+)\b/;
const CREATE_VIEW = /^CREATE MATERIALIZED VIEW IF NOT EXISTS \{\{database\}\}\.([a-z0-9_]+)\b/;
const ADD_COLUMN = /^ALTER TABLE \{\{database\}\}\.([a-z0-9_]+)\b(?= ADD COLUMN )/;
const TABLE_REFERENCE = /\{\{database\}\}\.([a-z0-9_]+)\b/g;
const ENGINE = /ENGINE = (\w*MergeTree)\(([^)]*)\)/;

/** ` ON CLUSTER <name>` where DDL should go through the cluster's DDL queue, else nothing. */
export function onClusterClause(layout: ClusterLayout | undefined): string {
  return layout?.replicated ? ` ON CLUSTER ${layout.name}` : "";
}

function shardingKeyOf(table: string): string {
  const key = SHARDING_KEYS[table];
  if (key === undefined) throw new Error(`cluster mode: table ${table} has no sharding key (add it to SHARDING_KEYS in cluster-schema.ts)`);
  return key;
}

/** Points every reference to a data table at its local table: views must read and fill local tables. */
function withLocalTables(statement: string): string {
  return statement.replace(TABLE_REFERENCE, (reference, table: string) =>
    SHARDING_KEYS[table] === undefined ? reference : `{{database}}.${table}${LOCAL_TABLE_SUFFIX}`,
  );
}

/** Adds ON CLUSTER right after the created object's name, where the grammar expects it. */
function withOnCluster(statement: string, createdPattern: RegExp, layout: ClusterLayout): string {
  return statement.replace(createdPattern, (head) => `${head}${onClusterClause(layout)}`);
}

/** The Distributed table over `table`'s local tables, under `table`'s own name. */
function distributedTable(table: string, layout: ClusterLayout): string {
  const localTable = `${table}${LOCAL_TABLE_SUFFIX}`;
  return (
    `CREATE TABLE IF NOT EXISTS {{database}}.${table}${onClusterClause(layout)} AS {{database}}.${localTable}\n` +
    `ENGINE = Distributed(${layout.name}, {{database}}, ${localTable}, ${shardingKeyOf(table)})`
  );
}

function replicatedEngine(statement: string, localTable: string): string {
  const match = ENGINE.exec(statement);
  // `CREATE TABLE x AS y` without an engine would copy y's ZooKeeper path: two tables on one path.
  if (!match) throw new Error(`cluster mode: ${localTable} needs an explicit MergeTree-family ENGINE to be replicated`);
  const [clause, engine = "", args = ""] = match;
  const replicationArgs = `'${REPLICATION_PATH_PREFIX}/{{database}}/${localTable}', '{replica}'`;
  return statement.replace(clause, `ENGINE = Replicated${engine}(${args.trim() ? `${replicationArgs}, ${args.trim()}` : replicationArgs})`);
}

/**
 * One single-server migration statement as the statements cluster mode runs instead (placeholders
 * still unrendered): a table becomes its local table and the Distributed table over it; a view is
 * re-pointed at local tables; a column added to a table is added to its local table and to the Distributed
 * table over it. Any other statement is refused, so a future migration (another ALTER, say) gets a
 * deliberate cluster form instead of silently touching only one node's Distributed table.
 */
export function expandForCluster(statement: string, layout: ClusterLayout): string[] {
  const table = CREATE_TABLE.exec(statement)?.[1];
  if (table !== undefined) {
    const localTable = `${table}${LOCAL_TABLE_SUFFIX}`;
    let local = withOnCluster(withLocalTables(statement), CREATE_TABLE, layout);
    if (layout.replicated) local = replicatedEngine(local, localTable);
    return [local, distributedTable(table, layout)];
  }
  if (CREATE_VIEW.test(statement)) return [withOnCluster(withLocalTables(statement), CREATE_VIEW, layout)];
  const altered = ADD_COLUMN.exec(statement)?.[1];
  if (altered !== undefined) {
    // The Distributed table is made again over the altered local table rather than altered: ON CLUSTER
    // refuses to ALTER a table that is not replicated on a cluster whose shards replicate (code 371). It
    // holds no rows (inserts through it are synchronous), so dropping it loses nothing.
    const distributed = distributedTable(altered, layout);
    return [withOnCluster(withLocalTables(statement), ADD_COLUMN, layout), `DROP TABLE IF EXISTS {{database}}.${altered}${onClusterClause(layout)}`, distributed];
  }
  throw new Error(`cluster mode: no cluster form for statement ${JSON.stringify(statement.slice(0, 80))}`);
}
