import type { ClickHouseConnection } from "./connection.ts";

/**
 * How replication of meshsight's tables looks from the connected ClickHouse node, read from its
 * `system.replicas` (one row per Replicated table). Writes keep working while a peer replica is down (the
 * connected node takes them and the peer fetches them when it returns), so a lost peer is not an outage
 * of this process; it is a loss of redundancy an operator must see. A node that lost ZooKeeper turns its
 * Replicated tables read-only: then writes fail until ZooKeeper is back.
 */
export interface ReplicationStatus {
  /** Replicated tables of the database on the connected node. */
  tables: number;
  /** Replicas of the connected node's shard, as registered in ZooKeeper (the most any table has). */
  replicas: number;
  /** Replicas holding a ZooKeeper session, for the table with fewest: a replica down lowers it. */
  activeReplicas: number;
  /** Tables the connected node cannot write (no ZooKeeper session). */
  readonlyTables: number;
  /** How far the connected replica lags behind its peers' newest parts, for the table lagging most. */
  maxDelaySeconds: number;
  /** Replication tasks (fetches, merges) waiting on the connected node. */
  queuedTasks: number;
}

/** The status, or undefined when the database has no Replicated tables. */
export async function readReplicationStatus(connection: ClickHouseConnection, database: string): Promise<ReplicationStatus | undefined> {
  const [row] = await connection.select<Record<keyof ReplicationStatus, number>>(
    `SELECT count() AS tables, max(total_replicas) AS replicas, min(active_replicas) AS activeReplicas,
            countIf(is_readonly OR is_session_expired) AS readonlyTables, max(absolute_delay) AS maxDelaySeconds,
            sum(queue_size) AS queuedTasks
     FROM system.replicas WHERE database = {database:String}`,
    { database },
  );
  if (row === undefined || Number(row.tables) === 0) return undefined;
  return {
    tables: Number(row.tables),
    replicas: Number(row.replicas),
    activeReplicas: Number(row.activeReplicas),
    readonlyTables: Number(row.readonlyTables),
    maxDelaySeconds: Number(row.maxDelaySeconds),
    queuedTasks: Number(row.queuedTasks),
  };
}

/** What is wrong, in words for /readyz; empty when every replica is up and writable. */
export function replicationProblems(status: ReplicationStatus): string[] {
  const problems: string[] = [];
  const down = status.replicas - status.activeReplicas;
  if (down > 0) problems.push(`${down} of ${status.replicas} replicas of this node's shard are down: writes go on, without redundancy until they return`);
  if (status.readonlyTables > 0) {
    problems.push(`${status.readonlyTables} of ${status.tables} tables are read-only on this node (no ZooKeeper session): writes fail and are retried`);
  }
  return problems;
}
