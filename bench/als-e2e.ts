/**
 * ALS end to end: entries per CPU-second of the collector process for the whole path, gRPC receive and
 * decode -> identity resolution -> endpoint naming -> minute aggregation and sampling -> flush into
 * (in-memory DuckDB) storage. The client runs in a child process. Prints, never asserts.
 *
 *   npx tsx bench/als-e2e.ts [requests=20000]   (each bookinfo request is ~7 ALS entries)
 */
import { spawn } from "node:child_process";
import { cpuSecondsSince, printFigures, rejectedTotal, startBenchCollector } from "./collector-harness.ts";
import { threadCpuSeconds, threadCpuSince } from "./thread-cpu.ts";

const requests = Number(process.argv[2] ?? 20_000);
const running = await startBenchCollector();
const target = `127.0.0.1:${running.collector.alsPort()}`;
const cpuBefore = process.cpuUsage();
const threadsBefore = threadCpuSeconds();
const wallStart = Date.now();
const client = spawn(process.execPath, ["--import", "tsx", new URL("./als-load-client.ts", import.meta.url).pathname, target, String(requests)], {
  stdio: ["ignore", "pipe", "inherit"],
});
let output = "";
client.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
const exitCode = await new Promise<number | null>((resolve) => client.on("exit", resolve));
await running.stop(); // the final flush is part of the work
const cpuSeconds = cpuSecondsSince(cpuBefore);
if (exitCode !== 0) throw new Error(`load client failed (${exitCode}): ${output}`);
const sent = JSON.parse(output.trim().split("\n").pop() ?? "{}") as { entries: number; streamErrors: string[] };
printFigures("ALS end to end (decode -> resolve -> aggregate -> flush)", {
  "entries sent": sent.entries,
  "stream errors": sent.streamErrors.length,
  "entries rejected": await rejectedTotal(running.registry),
  "collector CPU seconds": cpuSeconds,
  "CPU seconds per thread": threadCpuSince(threadsBefore),
  "wall seconds": (Date.now() - wallStart) / 1000,
  "entries per CPU-second": Math.round(sent.entries / cpuSeconds),
});
