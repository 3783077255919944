/**
 * Access-log lines end to end: lines per CPU-second of the collector process for the whole path a tailed
 * file takes, read in chunks -> split and parse (Istio's default text format) -> source identity from the
 * kubelet log path (as the FileTailer does) -> mesh resolution -> endpoint naming -> minute aggregation
 * and sampling -> flush into (in-memory DuckDB) storage. Prints, never asserts.
 *
 *   npx tsx bench/access-log-e2e.ts [--lines 2000000] [--warm-up-lines 200000] [--chunk-mib 1]
 *
 * A collector runs for days, so the figure is its steady state: files of `--warm-up-lines` lines go through
 * the same collector first (not measured) to warm the JIT and load what the path loads lazily; the measured
 * CPU then covers the main files and the final flush of everything.
 *
 * The log files are written to a temp dir before the timed section, by a child process so that its memory
 * stays out of the max RSS figure: one per bookinfo pod, at kubelet's
 * `/var/log/pods/<ns>_<pod>_<uid>/istio-proxy/0.log` path, each holding both sidecar directions (inbound
 * lines for the calls the pod serves, outbound lines for the calls it makes) with ids in the paths, some
 * 4xx/5xx and response flags. Timestamps sit around "now" so no line is late for the aggregator.
 */
import { spawn } from "node:child_process";
import { closeSync, createReadStream, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { resolveSourceIdentity } from "../collector/receivers/access-log/source-identity.ts";
import { ingestStream, type IngestTotals } from "../collector/receivers/access-log/stream-ingest.ts";
import type { RejectLedger } from "../collector/receivers/access-log/line-decoder.ts";
import { cpuSecondsSince, printFigures, rejectedTotal, type RunningCollector, startBenchCollector } from "./collector-harness.ts";
import { threadCpuSeconds, threadCpuSince } from "./thread-cpu.ts";

const { values } = parseArgs({
  options: {
    lines: { type: "string", default: "2000000" },
    "warm-up-lines": { type: "string", default: "200000" },
    "chunk-mib": { type: "string", default: "1" },
    /** Internal: the child process that writes the log files. */
    "write-to": { type: "string" },
  },
});
const lineCount = Number(values.lines);
const warmUpLineCount = Number(values["warm-up-lines"]);
const chunkBytes = Number(values["chunk-mib"]) * 1024 * 1024;
const PODS_DIRECTORY = "var/log/pods";

interface Pod {
  service: string;
  name: string;
  ip: string;
  /** Service cluster IP its callers connect to. */
  clusterIp: string;
}

const pod = (service: string, name: string, ip: string, clusterIp: string): Pod => ({ service, name, ip, clusterIp });
const GATEWAY = pod("istio-ingressgateway", "istio-ingressgateway-7f8c9d6b5-q2zxw", "10.44.0.5", "10.0.0.5");
const PRODUCTPAGE = pod("productpage", "productpage-v1-6b746f74dc-9stvs", "10.44.1.10", "10.0.45.10");
const DETAILS = pod("details", "details-v1-79f774bdb9-wbhhk", "10.44.1.11", "10.0.45.11");
const REVIEWS = [
  pod("reviews", "reviews-v1-545db77b95-kx9qz", "10.44.1.12", "10.0.45.12"),
  pod("reviews", "reviews-v2-7bf8c9648f-xz2lw", "10.44.1.13", "10.0.45.12"),
  pod("reviews", "reviews-v3-84779c7bbc-2wbcp", "10.44.1.14", "10.0.45.12"),
];
const RATINGS = pod("ratings", "ratings-v1-b6994bb9-rp4qn", "10.44.1.15", "10.0.45.15");
const LOGGING_PODS = [PRODUCTPAGE, DETAILS, ...REVIEWS, RATINGS];

const USER_AGENTS = [
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
  "python-requests/2.31.0",
  "Java/17.0.9",
  "curl/8.5.0",
];

interface Call {
  from: Pod;
  to: Pod;
  method: string;
  path: string;
  code: number;
  flags: string;
  details: string;
  durationMs: number;
}

/** What went wrong with ~2% of calls: the shapes Envoy logs for them. */
function outcome(index: number): Pick<Call, "code" | "flags" | "details"> {
  const roll = index % 100;
  if (roll === 7) return { code: 503, flags: "UF", details: "upstream_reset_before_response_started{connection_failure}" };
  if (roll === 42) return { code: 500, flags: "-", details: "via_upstream" };
  if (roll === 77) return { code: 404, flags: "-", details: "via_upstream" };
  if (roll === 91) return { code: 504, flags: "UT", details: "response_timeout" };
  return { code: 200, flags: "-", details: "via_upstream" };
}

/** The calls of one bookinfo page view, gateway -> productpage -> details, reviews -> ratings. */
function pageView(view: number): Call[] {
  const productId = view % 5000;
  const reviews = REVIEWS[view % 3] as Pod;
  const entry: Call = view % 4 === 0
    ? { from: GATEWAY, to: PRODUCTPAGE, method: "GET", path: `/api/v1/products/${productId}/reviews`, ...outcome(view), durationMs: 30 + (view % 40) }
    : { from: GATEWAY, to: PRODUCTPAGE, method: "GET", path: `/productpage?u=normal&id=${productId}`, ...outcome(view), durationMs: 40 + (view % 60) };
  const calls: Call[] = [
    entry,
    { from: PRODUCTPAGE, to: DETAILS, method: "GET", path: `/details/${productId}`, ...outcome(view + 13), durationMs: 2 + (view % 7) },
    { from: PRODUCTPAGE, to: reviews, method: "GET", path: `/reviews/${productId}`, ...outcome(view + 29), durationMs: 10 + (view % 25) },
  ];
  if (reviews !== REVIEWS[0]) calls.push({ from: reviews, to: RATINGS, method: "GET", path: `/ratings/${productId}`, ...outcome(view + 61), durationMs: 1 + (view % 5) });
  return calls;
}

function requestId(view: number, call: number): string {
  const hex = (view * 8 + call).toString(16).padStart(12, "0");
  return `6f1e3b9a-4a8c-4b7e-9d2f-${hex}`;
}

/** The line the callee's sidecar logs (server side; the caller's pod IP is the downstream remote). */
function inboundLine(call: Call, time: string, id: string, port: number): string {
  const { to, from } = call;
  return `[${time}] "${call.method} ${call.path} HTTP/1.1" ${call.code} ${call.flags} ${call.details} - "-" 0 ${295 + (port % 900)} ${call.durationMs} ${call.durationMs - 1} "-" "${USER_AGENTS[port % USER_AGENTS.length]}" "${id}" "${to.service}:9080" "${to.ip}:9080" inbound|9080|| 127.0.0.6:${50000 + (port % 10000)} ${to.ip}:9080 ${from.ip}:${port} outbound_.9080_._.${to.service}.default.svc.cluster.local default`;
}

/** The line the caller's sidecar logs (client side; the upstream is named by the cluster host). */
function outboundLine(call: Call, time: string, id: string, port: number): string {
  const { to, from } = call;
  const upstreamHost = call.flags === "UF" ? "-" : `${to.ip}:9080`;
  return `[${time}] "${call.method} ${call.path} HTTP/1.1" ${call.code} ${call.flags} ${call.details} - "-" 0 ${295 + (port % 900)} ${call.durationMs + 1} ${call.durationMs} "-" "${USER_AGENTS[port % USER_AGENTS.length]}" "${id}" "${to.service}:9080" "${upstreamHost}" outbound|9080||${to.service}.default.svc.cluster.local ${from.ip}:${port} ${to.clusterIp}:9080 ${from.ip}:${port + 1} - default`;
}

/** Writes `lines` lines over one file per logging pod, at kubelet's paths under `directory`. */
function writeLogFiles(directory: string, lines: number): void {
  const paths = new Map<Pod, string>();
  for (const loggingPod of LOGGING_PODS) {
    const podDirectory = join(directory, PODS_DIRECTORY, `default_${loggingPod.name}_0b6c2f1e-8d4a-4c3e-9f7a-${loggingPod.ip.replaceAll(".", "")}`, "istio-proxy");
    mkdirSync(podDirectory, { recursive: true });
    paths.set(loggingPod, join(podDirectory, "0.log"));
  }
  const blocks = new Map<Pod, string[]>(LOGGING_PODS.map((loggingPod) => [loggingPod, []]));
  const handles = new Map<Pod, number>([...paths].map(([loggingPod, path]) => [loggingPod, openSync(path, "w")]));
  const flush = (loggingPod: Pod): void => {
    const block = blocks.get(loggingPod) as string[];
    if (block.length > 0) writeSync(handles.get(loggingPod) as number, `${block.join("\n")}\n`);
    block.length = 0;
  };
  // Spread over +-20 s around now: inside the aggregator's lateness and clock-skew windows.
  const firstMs = Date.now() - 20_000;
  const stepMs = 40_000 / Math.max(1, lines);
  let written = 0;
  for (let view = 0; written < lines; view++) {
    const time = new Date(firstMs + written * stepMs).toISOString();
    const calls = pageView(view);
    for (let index = 0; index < calls.length && written < lines; index++) {
      const call = calls[index] as Call;
      const id = requestId(view, index);
      const port = 32768 + ((view * 7 + index * 131) % 28000);
      const target: Array<[Pod, string]> = [[call.to, inboundLine(call, time, id, port)]];
      if (call.from !== GATEWAY) target.push([call.from, outboundLine(call, time, id, port)]);
      for (const [loggingPod, line] of target) {
        if (written >= lines) break;
        const block = blocks.get(loggingPod) as string[];
        block.push(line);
        written++;
        if (block.length >= 10_000) flush(loggingPod);
      }
    }
  }
  for (const loggingPod of LOGGING_PODS) {
    flush(loggingPod);
    closeSync(handles.get(loggingPod) as number);
  }
}

/** Runs the file writer in a child process, so its memory does not count in the collector's max RSS. */
async function writeLogFilesInChild(directory: string, lines: number): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", new URL(import.meta.url).pathname, "--write-to", directory, "--lines", String(lines)], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exitCode = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  if (exitCode !== 0) throw new Error(`log file writer failed (${exitCode})`);
}

/** Writes `lines` lines of log files under `directory` (in a child process) and lists them. */
async function prepareLogFiles(directory: string, lines: number): Promise<string[]> {
  await writeLogFilesInChild(directory, lines);
  return readdirSync(join(directory, PODS_DIRECTORY)).map((podDirectory) => join(directory, PODS_DIRECTORY, podDirectory, "istio-proxy", "0.log"));
}

/** Ingests `files` one after another as a tailer would (identity from kubelet's path layout). */
async function ingestFiles(files: readonly string[], running: RunningCollector, rejects: RejectLedger): Promise<IngestTotals[]> {
  const totals: IngestTotals[] = [];
  for (const path of files) {
    const proxy = resolveSourceIdentity({ kind: "path", pattern: "kubernetes" }, path);
    const input = createReadStream(path, { highWaterMark: chunkBytes });
    totals.push(await ingestStream(input, { format: "istio", proxy, ingest: running.collector.pipeline, rejects }));
  }
  return totals;
}

async function measure(directory: string): Promise<void> {
  const warmUpFiles = warmUpLineCount > 0 ? await prepareLogFiles(join(directory, "warm-up"), warmUpLineCount) : [];
  const files = await prepareLogFiles(join(directory, "measured"), lineCount);
  const fileBytes = files.reduce((sum, path) => sum + statSync(path).size, 0);

  const running = await startBenchCollector();
  let decodeRejects = 0;
  // The pipeline counts its own rejects on the collector's registry ("rejects counted by the collector").
  const rejects: RejectLedger = {
    reject: (_source: string, _reason: string, count = 1): void => void (decodeRejects += count),
    during: (work) => ({ result: work(), rejects: new Map() }),
  };
  const warmUp = await ingestFiles(warmUpFiles, running, rejects);
  const cpuBefore = process.cpuUsage();
  const threadsBefore = threadCpuSeconds();
  const wallStart = Date.now();
  const totals = await ingestFiles(files, running, rejects);
  await running.stop(); // the final flush is part of the work
  const cpuSeconds = cpuSecondsSince(cpuBefore);
  const lines = totals.reduce((sum, total) => sum + total.lines, 0);
  printFigures("Access-log lines end to end (read -> parse -> identity -> resolve -> aggregate -> flush)", {
    "warm-up lines (not measured)": warmUp.reduce((sum, total) => sum + total.lines, 0),
    "log files": files.length,
    "lines": lines,
    "file MiB": fileBytes / 1024 / 1024,
    "chunk MiB": chunkBytes / 1024 / 1024,
    "lines accepted": totals.reduce((sum, total) => sum + total.accepted, 0),
    "lines rejected by the decoder": decodeRejects,
    "rejects counted by the collector": await rejectedTotal(running.registry),
    "collector CPU seconds": cpuSeconds,
    "CPU seconds per thread": threadCpuSince(threadsBefore),
    "wall seconds": (Date.now() - wallStart) / 1000,
    "lines per CPU-second": Math.round(lines / cpuSeconds),
  });
}

if (values["write-to"] !== undefined) {
  writeLogFiles(values["write-to"], lineCount);
} else {
  const directory = mkdtempSync(join(tmpdir(), "meshsight-bench-"));
  try {
    await measure(directory);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
