import type { ClickHouseClient } from "@clickhouse/client";
import type { Logger } from "pino";
import { StorageUnavailableError } from "../port.ts";
import { createClickHouseClient, redactUrl } from "./client-factory.ts";
import { ClickHouseConnection } from "./connection.ts";

/**
 * The nodes of a ClickHouse cluster, as the connected server's `system.clusters` lists them. Work that
 * only touches one node's local tables (creating them without ZooKeeper, TTL, dropping old partitions)
 * needs a connection to every node; `system.clusters` gives host names and native TCP ports only, so
 * each node is reached over HTTP on the configured URL's scheme, port and credentials with its host
 * swapped (deployments run every node on the same HTTP port).
 */

export interface ClusterNode {
  /** `host_name` from remote_servers, for messages. */
  host: string;
  url: string;
  connection: ClickHouseConnection;
}

export interface ClusterNodes {
  nodes: ClusterNode[];
  close(): Promise<void>;
}

/** The configured URL with `host` in place of its host; credentials, scheme, port and path kept. */
export function nodeUrl(seedUrl: string, host: string): string {
  const url = new URL(seedUrl);
  // An IPv6 literal needs brackets in a URL; system.clusters prints it bare.
  url.hostname = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return url.toString().replace(/\/$/, "");
}

/** Distinct hosts of `cluster`, every replica of every shard; fails clearly when the server does not know the cluster. */
export async function listClusterHosts(connection: ClickHouseConnection, cluster: string): Promise<string[]> {
  const rows = await connection.select<{ host_name: string }>(
    "SELECT DISTINCT host_name FROM system.clusters WHERE cluster = {cluster:String} ORDER BY host_name",
    { cluster },
  );
  if (rows.length === 0) {
    throw new StorageUnavailableError(
      `ClickHouse cluster ${cluster} is not defined on the server: add it to remote_servers on every node (docs/deploy-clickhouse.md)`,
    );
  }
  return rows.map((row) => row.host_name);
}

export interface OpenClusterNodesOptions {
  seedUrl: string;
  cluster: string;
  /** A connection to the configured URL, used to read system.clusters. */
  seed: ClickHouseConnection;
  requestTimeoutMs: number;
  logger: Logger;
  /**
   * Replicated tables: a host that does not answer is left out with a warning instead of failing start,
   * since the other replicas of its shard take its writes and upkeep (a partition dropped on one replica
   * is dropped on all) and it catches up when it returns. Without replication its shard has no other copy.
   */
  toleratesMissingHosts: boolean;
}

/** Opens one client per cluster host and checks each answers, so a missing node fails start (unless tolerated), not a later timer. */
export async function openClusterNodes(options: OpenClusterNodesOptions): Promise<ClusterNodes> {
  const hosts = await listClusterHosts(options.seed, options.cluster);
  const clients: ClickHouseClient[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(clients.map((client) => client.close()));
  };
  const nodes: ClusterNode[] = [];
  try {
    for (const host of hosts) {
      const url = nodeUrl(options.seedUrl, host);
      const client = createClickHouseClient(url, options.requestTimeoutMs, options.logger);
      clients.push(client);
      const answered = await client.ping().catch(() => ({ success: false }) as const);
      if (!answered.success && options.toleratesMissingHosts) {
        options.logger.warn({ host, cluster: options.cluster }, "clickhouse replica does not answer: left out of retention until meshsight restarts; it catches up through replication");
        continue;
      }
      if (!answered.success) {
        throw new StorageUnavailableError(
          `ClickHouse node ${host} of cluster ${options.cluster} does not answer at ${redactUrl(url)} (every node must serve HTTP on the configured URL's port)`,
        );
      }
      nodes.push({ host, url, connection: new ClickHouseConnection(client, options.seed.capabilities) });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { nodes, close };
}
