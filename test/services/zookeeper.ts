/**
 * A real ZooKeeper (Debian's `zookeeper` package, 3.8) for the replicated ClickHouse tests: standalone, on a
 * free loopback port, with a temporary data directory, waited for until `srvr` says it serves.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, stopper, waitUntil } from "./index.ts";

/** The server's classes; the package's launcher scripts only wrap `java -cp` with it. */
const ZOOKEEPER_JAR = "/usr/share/java/zookeeper.jar";

export interface RunningZooKeeper {
  host: string;
  port: number;
  /** Stops the server, keeping its data, as an outage does. */
  halt(): Promise<void>;
  /** Starts it again on its data and port after halt(); resolves once it serves. */
  resume(): Promise<void>;
  /** Stops it for good and removes its data. */
  stop(): Promise<void>;
}

function zooKeeperJar(): string {
  if (existsSync(ZOOKEEPER_JAR)) return ZOOKEEPER_JAR;
  process.stderr.write("test/services: ZooKeeper missing, installing Debian package zookeeper\n");
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "zookeeper"], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  return ZOOKEEPER_JAR;
}

/** Sends a four-letter command and resolves with the whole answer (the server closes the connection after it). */
function fourLetterWord(host: string, port: number, word: "srvr"): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => socket.end(word));
    let answer = "";
    socket.setTimeout(1000, () => socket.destroy(new Error(`ZooKeeper ${host}:${port} did not answer ${word} within 1 s`)));
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

export async function startZooKeeper(): Promise<RunningZooKeeper> {
  const jar = zooKeeperJar();
  const dir = mkdtempSync(join(tmpdir(), "meshsight-zk-"));
  const host = "127.0.0.1";
  const port = await freePort();
  const configFile = join(dir, "zoo.cfg");
  writeFileSync(
    configFile,
    [
      // Short ticks: a stopped ClickHouse replica's session (bounded by 2..20 ticks) expires in seconds.
      "tickTime=500",
      `dataDir=${dir}`,
      `clientPort=${port}`,
      `clientPortAddress=${host}`,
      // The admin HTTP server would take port 8080; four-letter words are the health check.
      "admin.enableServer=false",
      "4lw.commands.whitelist=srvr",
      "",
    ].join("\n"),
  );
  const launch = async (): Promise<() => Promise<void>> => {
    const child = spawn(
      "java",
      // A small heap and the quick JIT tier: the server idles in tests, and starting fast matters more.
      ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", `-Dzookeeper.log.dir=${dir}`, "-cp", jar, "org.apache.zookeeper.server.quorum.QuorumPeerMain", configFile],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    // Not `ruok`: it answers imok before the server takes sessions, and a ClickHouse connecting then is dropped.
    await waitUntil("zookeeper", child, async () => /^Mode: standalone$/m.test(await fourLetterWord(host, port, "srvr")));
    return stopper(child, undefined);
  };
  let stopRunning: (() => Promise<void>) | undefined = await launch();
  const halt = async (): Promise<void> => {
    await stopRunning?.();
    stopRunning = undefined;
  };
  return {
    host,
    port,
    halt,
    resume: async () => {
      stopRunning ??= await launch();
    },
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
