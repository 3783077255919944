/**
 * A replicated ClickHouse topology on loopback, as docs/deploy-clickhouse.md deploys it: one ZooKeeper and
 * one shard of `replicas` servers, `remote_servers` with `internal_replication`, and `{shard}`/`{replica}`
 * macros, all generated here. A replica can be stopped and started again on its data, as an outage does.
 *
 * Every replica listens on 127.0.0.1 with ports of its own: ClickHouse 18.16 runs an ON CLUSTER statement
 * on the hosts whose address is one of the machine's interface addresses (with its own TCP port), and
 * 127.0.0.2 is routed to loopback but is not an interface address, so a replica there never ran its DDL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startClickHouse, type RunningService } from "./index.ts";
import { startZooKeeper, type RunningZooKeeper } from "./zookeeper.ts";

export interface ReplicaNode {
  /** Its HTTP interface. */
  url: string;
  /** The `{replica}` macro. */
  replica: string;
  isRunning(): boolean;
  /** Stops the server, keeping its data. */
  stop(): Promise<void>;
  /** Starts it again on its data, ports and macros; resolves once it answers. */
  start(): Promise<void>;
}

export interface RunningReplicatedCluster {
  /** The `remote_servers` cluster name. */
  name: string;
  zooKeeper: RunningZooKeeper;
  replicas: ReplicaNode[];
  stop(): Promise<void>;
}

interface ReplicaAddress {
  host: string;
  replica: string;
  httpPort: number;
  tcpPort: number;
  interserverPort: number;
}

/** The config.d elements every node shares: the cluster, with ClickHouse replicating the shard itself. */
export function replicatedRemoteServersXml(name: string, replicas: readonly ReplicaAddress[]): string {
  const replicaXml = replicas.map(({ host, tcpPort }) => `<replica><host>${host}</host><port>${tcpPort}</port></replica>`).join("");
  return `<${name}><shard><internal_replication>true</internal_replication>${replicaXml}</shard></${name}>`;
}

/** The config.d elements of one node: where ZooKeeper is, which replica it is, and the address its peers fetch parts from. */
export function replicaConfigXml(zooKeeper: RunningZooKeeper, address: ReplicaAddress): string {
  return [
    `<zookeeper replace="replace"><node><host>${zooKeeper.host}</host><port>${zooKeeper.port}</port></node><session_timeout_ms>5000</session_timeout_ms></zookeeper>`,
    `<macros replace="replace"><shard>01</shard><replica>${address.replica}</replica></macros>`,
    `<interserver_http_host>${address.host}</interserver_http_host>`,
  ].join("\n");
}

export async function startReplicatedClickHouse(name: string, replicaCount = 2): Promise<RunningReplicatedCluster> {
  const zooKeeper = await startZooKeeper();
  const host = "127.0.0.1";
  const addresses: ReplicaAddress[] = [];
  for (let i = 0; i < replicaCount; i++) {
    addresses.push({ host, replica: `replica-${i + 1}`, httpPort: await freePort(), tcpPort: await freePort(), interserverPort: await freePort() });
  }
  const remoteServersXml = replicatedRemoteServersXml(name, addresses);
  const replicas: ReplicaNode[] = [];
  const dataDirs: string[] = [];
  const stopAll = async (): Promise<void> => {
    for (const replica of replicas) await replica.stop();
    await zooKeeper.stop();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const address of addresses) {
      const dataDir = mkdtempSync(join(tmpdir(), `meshsight-ch-${address.replica}-`));
      dataDirs.push(dataDir);
      const options = {
        listenHost: address.host,
        httpPort: address.httpPort,
        tcpPort: address.tcpPort,
        interserverPort: address.interserverPort,
        remoteServersXml,
        extraConfigXml: replicaConfigXml(zooKeeper, address),
        dataDir,
      };
      let server: RunningService | undefined = await startClickHouse(options);
      replicas.push({
        url: server.url,
        replica: address.replica,
        isRunning: () => server !== undefined,
        stop: async () => {
          await server?.stop();
          server = undefined;
        },
        start: async () => {
          server ??= await startClickHouse(options);
        },
      });
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { name, zooKeeper, replicas, stop: stopAll };
}
