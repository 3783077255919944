import { Gauge, type Registry } from "prom-client";
import { replicationProblems, type ReplicationStatus } from "./replication-status.ts";

/**
 * Replicated ClickHouse seen from outside the process: /readyz details and /metrics gauges, so a replica
 * that stays down (writes go on without it) is visible instead of silently tolerated.
 */

export interface ReplicationSource {
  replication(): Promise<ReplicationStatus | undefined>;
}

/** The storage check's /readyz details: the status and its problems in words. */
export function replicationDetails(source: ReplicationSource): () => Promise<object | undefined> {
  return async () => {
    const status = await source.replication();
    return status === undefined ? undefined : { replication: { ...status, problems: replicationProblems(status) } };
  };
}

const GAUGES: ReadonlyArray<{ name: string; help: string; value: (status: ReplicationStatus) => number }> = [
  { name: "meshsight_clickhouse_replicas", help: "Replicas of the connected ClickHouse node's shard, as registered in ZooKeeper.", value: (s) => s.replicas },
  {
    name: "meshsight_clickhouse_replicas_active",
    help: "Replicas of the connected node's shard holding a ZooKeeper session (table with fewest); below meshsight_clickhouse_replicas means a replica is down.",
    value: (s) => s.activeReplicas,
  },
  { name: "meshsight_clickhouse_readonly_tables", help: "meshsight tables the connected ClickHouse node cannot write for lack of a ZooKeeper session.", value: (s) => s.readonlyTables },
  { name: "meshsight_clickhouse_replication_delay_seconds", help: "How far the connected replica lags behind its peers (table lagging most).", value: (s) => s.maxDelaySeconds },
  { name: "meshsight_clickhouse_replication_queue_tasks", help: "Replication tasks (fetches, merges) waiting on the connected ClickHouse node.", value: (s) => s.queuedTasks },
];

/**
 * Registers the gauges, read from the server at each scrape (one query shared by all of them). A scrape
 * that cannot read the status within `timeoutMs` leaves them empty rather than stale or slow.
 */
export function registerReplicationMetrics(registry: Registry, source: ReplicationSource, timeoutMs: number): void {
  let reading: Promise<ReplicationStatus | undefined> | undefined;
  const read = (): Promise<ReplicationStatus | undefined> => {
    // The gauges of one scrape are collected together: the first starts the query, the others share it.
    reading ??= Promise.race([
      source.replication(),
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), timeoutMs).unref()),
    ])
      .catch(() => undefined)
      .finally(() => (reading = undefined));
    return reading;
  };
  for (const { name, help, value } of GAUGES) {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const status = await read();
        if (status === undefined) this.reset();
        else this.set(value(status));
      },
    });
  }
}
