/**
 * ALS end to end: entries per CPU-second of the collector process for the whole path, gRPC receive and
 * decode -> identity resolution -> endpoint naming -> minute aggregation and sampling -> flush into
 * (in-memory DuckDB) storage. The client runs in a child process. Prints, never asserts.
 *
 *   npx tsx bench/als-e2e.ts [requests=60000] [warm-up requests=6000] [drop peer metadata=0.5] [drop mTLS=0.5] [wal=off|on]
 *   (each bookinfo request is ~9 ALS entries)
 *
 * By default half the hops carry no peer metadata and half of those no mTLS identity either, so callers
 * are named by peer metadata, by mTLS identity and by request-id pairing (docs/mesh.md) in one run.
 *
 * A collector runs for days, so the figure is its steady state: a first client run (not measured) warms
 * the JIT and loads what the path loads lazily; the measured run then starts on the same collector, and
 * its CPU includes the final flush of everything.
 */
import { spawn } from "node:child_process";
import { callersNamed, cpuSecondsSince, printFigures, rejectedTotal, startBenchCollector } from "./collector-harness.ts";
import { threadCpuSeconds, threadCpuSince } from "./thread-cpu.ts";

const requests = Number(process.argv[2] ?? 60_000);
const warmUpRequests = Number(process.argv[3] ?? 6_000);
const dropShares = [process.argv[4] ?? "0.5", process.argv[5] ?? "0.5"];
const isWalOn = process.argv[6] === "on";

interface ClientReport {
  entries: number;
  streamErrors: string[];
}

/** Runs the bookinfo load client to completion in its own process; returns its report. */
async function runLoadClient(target: string, clientRequests: number): Promise<ClientReport> {
  const client = spawn(process.execPath, ["--import", "tsx", new URL("./als-load-client.ts", import.meta.url).pathname, target, String(clientRequests), ...dropShares], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  client.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exitCode = await new Promise<number | null>((resolve) => client.on("exit", resolve));
  if (exitCode !== 0) throw new Error(`load client failed (${exitCode}): ${output}`);
  return JSON.parse(output.trim().split("\n").pop() ?? "{}") as ClientReport;
}

const running = await startBenchCollector({ wal: isWalOn });
const target = `127.0.0.1:${running.collector.alsPort()}`;
const warmUp = warmUpRequests > 0 ? await runLoadClient(target, warmUpRequests) : { entries: 0, streamErrors: [] };
const cpuBefore = process.cpuUsage();
const threadsBefore = threadCpuSeconds();
const wallStart = Date.now();
const sent = await runLoadClient(target, requests);
await running.stop(); // the final flush is part of the work
const cpuSeconds = cpuSecondsSince(cpuBefore);
printFigures(`ALS end to end (decode -> resolve -> aggregate -> flush), write-ahead buffer ${isWalOn ? "on" : "off"}`, {
  "warm-up entries (not measured)": warmUp.entries,
  "entries sent": sent.entries,
  "stream errors": warmUp.streamErrors.length + sent.streamErrors.length,
  "entries rejected": await rejectedTotal(running.registry),
  "callers named (metadata, address, mTLS identity / request id)": await callersNamed(running.registry),
  "collector CPU seconds": cpuSeconds,
  "CPU seconds per thread": threadCpuSince(threadsBefore),
  "wall seconds": (Date.now() - wallStart) / 1000,
  "entries per CPU-second": Math.round(sent.entries / cpuSeconds),
});
