/**
 * Real servers for tests: ClickHouse, Redis and Alertmanager, each started on loopback with a temporary
 * data directory and free ports, waited for until it answers, and stopped afterwards. Nothing is mocked.
 *
 * test/run.ts starts one of each for the whole `npm test` run and passes their addresses in
 * MESHSIGHT_TEST_* variables; `useClickHouse()` and friends reuse those, or start a private server when
 * a test file runs on its own.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "../support/wait-for.ts";

export interface RunningService {
  url: string;
  stop(): Promise<void>;
}

const STARTUP_DEADLINE_MS = 60_000;

/** Debian packages providing each server binary; installed on demand (CI and developers run as root). */
const DEBIAN_PACKAGES: Record<string, string> = {
  "clickhouse-server": "clickhouse-server",
  "redis-server": "redis-server",
  "prometheus-alertmanager": "prometheus-alertmanager",
};

export function binaryPath(name: string): string {
  for (const dir of ["/usr/bin", "/usr/sbin", "/usr/local/bin"]) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  const pkg = DEBIAN_PACKAGES[name] ?? name;
  process.stderr.write(`test/services: ${name} missing, installing Debian package ${pkg}\n`);
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", pkg], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  return binaryPath(name);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns true or the deadline passes; fails with the child's last output. */
export async function waitUntil(what: string, child: ChildProcess, probe: () => Promise<boolean>): Promise<void> {
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const answers = async (): Promise<boolean> => {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} during start:\n${output}`);
    return probe().catch(() => false);
  };
  try {
    await waitFor(answers, `${what} to answer`, STARTUP_DEADLINE_MS, () => `its output:\n${output}`);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
}

async function httpAnswers(url: string, expected?: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  const body = await response.text();
  return response.ok && (expected === undefined || body.includes(expected));
}

/** Stops `child`, then removes `dir` (nothing when undefined: the caller keeps it). */
export function stopper(child: ChildProcess, dir: string | undefined): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  };
}

export interface ClickHouseServerOptions {
  /** Loopback address to listen on; default 127.0.0.1. Any 127.x.y.z works on Linux. */
  listenHost?: string;
  httpPort?: number;
  tcpPort?: number;
  /** Default a free port; fixed when a stopped node must come back as the same replica. */
  interserverPort?: number;
  /** `<remote_servers>` body (inside the root element), written to a config.d file next to a copy of the system config. */
  remoteServersXml?: string;
  /** More top-level config elements (zookeeper, macros, ...) for that config.d file; needs `remoteServersXml`. */
  extraConfigXml?: string;
  /** A data directory the caller owns and keeps across a stop, so the server can start again with its data; default a fresh one removed at stop. */
  dataDir?: string;
}

const SYSTEM_CONFIG_DIR = "/etc/clickhouse-server";

/**
 * A private config directory: the system config and users copied, plus config.d/remote-servers.xml.
 * ClickHouse reads config.d next to the main file, and remote_servers cannot be set from the command line.
 */
function writeClusterConfig(dir: string, remoteServersXml: string, extraConfigXml = ""): string {
  const configDir = join(dir, "etc");
  mkdirSync(join(configDir, "config.d"), { recursive: true });
  for (const file of ["config.xml", "users.xml"]) copyFileSync(join(SYSTEM_CONFIG_DIR, file), join(configDir, file));
  writeFileSync(
    join(configDir, "config.d", "remote-servers.xml"),
    `<yandex>\n<remote_servers replace="replace">\n${remoteServersXml}\n</remote_servers>\n${extraConfigXml}\n</yandex>\n`,
  );
  return join(configDir, "config.xml");
}

export async function startClickHouse(options: ClickHouseServerOptions = {}): Promise<RunningService> {
  const binary = binaryPath("clickhouse-server");
  const dir = options.dataDir ?? mkdtempSync(join(tmpdir(), "meshsight-ch-"));
  for (const sub of ["tmp", "user_files", "format_schemas"]) mkdirSync(join(dir, sub), { recursive: true });
  const host = options.listenHost ?? "127.0.0.1";
  const httpPort = options.httpPort ?? (await freePort());
  const tcpPort = options.tcpPort ?? (await freePort());
  const interserverPort = options.interserverPort ?? (await freePort());
  const configFile =
    options.remoteServersXml === undefined ? join(SYSTEM_CONFIG_DIR, "config.xml") : writeClusterConfig(dir, options.remoteServersXml, options.extraConfigXml);
  const child = spawn(
    binary,
    [
      `--config-file=${configFile}`,
      "--",
      `--path=${dir}/`,
      `--tmp_path=${dir}/tmp/`,
      `--user_files_path=${dir}/user_files/`,
      `--format_schema_path=${dir}/format_schemas/`,
      `--logger.log=${dir}/ch.log`,
      `--logger.errorlog=${dir}/err.log`,
      `--http_port=${httpPort}`,
      `--tcp_port=${tcpPort}`,
      `--interserver_http_port=${interserverPort}`,
      `--listen_host=${host}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const url = `http://${host}:${httpPort}`;
  await waitUntil("clickhouse-server", child, () => httpAnswers(`${url}/ping`, "Ok."));
  return { url, stop: stopper(child, options.dataDir === undefined ? dir : undefined) };
}

export interface RunningClickHouseCluster {
  /** The `remote_servers` cluster name. */
  name: string;
  /** One server per shard, in shard order. */
  nodes: RunningService[];
  stop(): Promise<void>;
}

/**
 * `shards` real servers forming a cluster of one replica per shard, as a deployment has them: every node
 * serves HTTP on the same port (on its own loopback address, 127.0.0.1, 127.0.0.2, ...), so a client can
 * reach each host that `system.clusters` names with the port it already knows. TCP ports differ because
 * ClickHouse takes any local address with its own TCP port for "this node".
 */
export async function startClickHouseCluster(name: string, shards = 2): Promise<RunningClickHouseCluster> {
  const httpPort = await freePort();
  const hosts: { host: string; tcpPort: number }[] = [];
  for (let i = 0; i < shards; i++) hosts.push({ host: `127.0.0.${i + 1}`, tcpPort: await freePort() });
  const shardXml = hosts.map(({ host, tcpPort }) => `<shard><replica><host>${host}</host><port>${tcpPort}</port></replica></shard>`).join("");
  const remoteServersXml = `<${name}>${shardXml}</${name}>`;
  const nodes: RunningService[] = [];
  try {
    for (const { host, tcpPort } of hosts) nodes.push(await startClickHouse({ listenHost: host, httpPort, tcpPort, remoteServersXml }));
  } catch (error) {
    for (const node of nodes) await node.stop();
    throw error;
  }
  return {
    name,
    nodes,
    stop: async () => {
      for (const node of nodes) await node.stop();
    },
  };
}

export async function startRedis(): Promise<RunningService> {
  const binary = binaryPath("redis-server");
  const dir = mkdtempSync(join(tmpdir(), "meshsight-redis-"));
  const port = await freePort();
  const child = spawn(
    binary,
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  await waitUntil("redis-server", child, () => redisPing(port));
  return { url: `redis://127.0.0.1:${port}`, stop: stopper(child, dir) };
}

/** Speaks just enough RESP to see PONG, so the helper needs no client library. */
async function redisPing(port: number): Promise<boolean> {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
  });
}

export async function startAlertmanager(): Promise<RunningService> {
  const binary = binaryPath("prometheus-alertmanager");
  const dir = mkdtempSync(join(tmpdir(), "meshsight-am-"));
  const [port, clusterPort] = [await freePort(), await freePort()];
  const configFile = join(dir, "alertmanager.yml");
  writeFileSync(configFile, "route:\n  receiver: 'null'\n  group_wait: 1s\nreceivers:\n  - name: 'null'\n");
  const child = spawn(
    binary,
    [
      `--config.file=${configFile}`,
      `--storage.path=${dir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--cluster.listen-address=`,
      `--cluster.advertise-address=127.0.0.1:${clusterPort}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitUntil("alertmanager", child, () => httpAnswers(`${url}/-/ready`));
  return { url, stop: stopper(child, dir) };
}

/** A server shared by the test run when test/run.ts started one, else a private one for this file. */
async function shared(envName: string, start: () => Promise<RunningService>): Promise<RunningService> {
  const url = process.env[envName];
  if (url) return { url, stop: async () => {} };
  return start();
}

export const useClickHouse = (): Promise<RunningService> => shared("MESHSIGHT_TEST_CLICKHOUSE_URL", () => startClickHouse());
export const useRedis = (): Promise<RunningService> => shared("MESHSIGHT_TEST_REDIS_URL", startRedis);
export const useAlertmanager = (): Promise<RunningService> => shared("MESHSIGHT_TEST_ALERTMANAGER_URL", startAlertmanager);
