/**
 * The whole `meshsight ingest` process against a bare Node scanner and mtail on the same Istio-format access
 * log: lines per CPU-second of each process, start-up included (user + system CPU of the child as
 * /usr/bin/time reports it; the machine is shared, so CPU, not wall time). Prints, never asserts.
 *
 *   npx tsx bench/ingest-process.ts [--lines 1200000] [--runs 3]
 *
 * meshsight runs as installed: `node bin/meshsight.mjs ingest --format istio FILE` on the JavaScript that
 * `npm run build` puts in dist/ (built first here), into a fresh DuckDB file, and does everything it does
 * for any log (identity, endpoint naming, per-minute metrics with percentiles, relations, sampling, stored).
 * The others do only the aggregation the bench asks of all (requests per minute x authority x direction x
 * response code, with the sum and a histogram of durations): bare-istio-scanner.ts, compiled with esbuild
 * and run by plain node, and mtail (`--one_shot` over mtail/istio-requests.mtail) when it is installed.
 *
 * The log is one productpage sidecar's: inbound calls from the ingress gateway, outbound calls to details
 * and reviews, ~2 % errors, ids in paths, spread over the hour before now (so every line is inside
 * retention and in order). It is written to a temp dir before anything is measured.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";

const { values } = parseArgs({ options: { lines: { type: "string", default: "1200000" }, runs: { type: "string", default: "3" } } });
const lineCount = Number(values.lines);
const runs = Number(values.runs);
const REPO_ROOT = fileURLToPath(new URL("../", import.meta.url));
const SERVICE = "productpage.default";
const INSTANCE = "productpage-v1-6b746f74dc-9stvs";
const TIME = "/usr/bin/time";

/** One access-log line of productpage's sidecar: `inbound` from the gateway, else outbound to `peer`. */
function line(index: number, timeMs: number): string {
  const time = new Date(timeMs).toISOString();
  const productId = index % 5000;
  const failed = index % 50 === 7;
  const code = failed ? 503 : index % 100 === 42 ? 404 : 200;
  const flags = failed ? "UF" : "-";
  const details = failed ? "upstream_reset_before_response_started{connection_failure}" : "via_upstream";
  const port = 32768 + ((index * 131) % 28000);
  const id = `6f1e3b9a-4a8c-4b7e-9d2f-${index.toString(16).padStart(12, "0")}`;
  const kind = index % 3;
  if (kind === 0) {
    const duration = 30 + (index % 60);
    return `[${time}] "GET /productpage?id=${productId} HTTP/1.1" ${code} ${flags} ${details} - "-" 0 ${1200 + (port % 900)} ${duration} ${duration - 1} "10.44.0.1" "Mozilla/5.0 (X11; Linux x86_64)" "${id}" "productpage:9080" "10.44.1.10:9080" inbound|9080|| 127.0.0.6:${50000 + (port % 10000)} 10.44.1.10:9080 10.44.0.5:${port} outbound_.9080_._.productpage.default.svc.cluster.local default`;
  }
  const peer = kind === 1 ? { service: "details", path: `/details/${productId}`, ip: "10.44.1.11", clusterIp: "10.0.45.11" } : { service: "reviews", path: `/reviews/${productId}`, ip: "10.44.1.12", clusterIp: "10.0.45.12" };
  const duration = 2 + (index % 25);
  const upstream = failed ? "-" : `${peer.ip}:9080`;
  return `[${time}] "GET ${peer.path} HTTP/1.1" ${code} ${flags} ${details} - "-" 0 ${295 + (port % 900)} ${duration + 1} ${duration} "-" "python-requests/2.31.0" "${id}" "${peer.service}:9080" "${upstream}" outbound|9080||${peer.service}.default.svc.cluster.local 10.44.1.10:${port} ${peer.clusterIp}:9080 10.44.1.10:${port + 1} - default`;
}

function writeLog(path: string, lines: number): void {
  const handle = openSync(path, "w");
  const lastMs = Date.now() - 5 * 60_000;
  const stepMs = 60 * 60_000 / lines;
  const block: string[] = [];
  for (let index = 0; index < lines; index++) {
    block.push(line(index, lastMs - (lines - index) * stepMs));
    if (block.length === 10_000 || index === lines - 1) {
      writeSync(handle, `${block.join("\n")}\n`);
      block.length = 0;
    }
  }
  closeSync(handle);
}

interface Measured {
  cpuSeconds: number;
  maxRssMiB: number;
  stdout: string;
}

/** Runs a command to its end under /usr/bin/time and returns its CPU (user + system) and output. */
function measured(command: string, args: readonly string[]): Measured {
  const result = spawnSync(TIME, ["-f", "cpu %U %S rss %M", command, ...args], { cwd: REPO_ROOT, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const figures = /cpu ([\d.]+) ([\d.]+) rss (\d+)\s*$/.exec(result.stderr);
  if (result.status !== 0 || figures === null) throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return { cpuSeconds: Number(figures[1]) + Number(figures[2]), maxRssMiB: Number(figures[3]) / 1024, stdout: result.stdout };
}

function hasMtail(): boolean {
  return spawnSync("mtail", ["--version"], { encoding: "utf8" }).status === 0;
}

const median = (numbers: readonly number[]): number => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const directory = mkdtempSync(join(tmpdir(), "meshsight-bench-ingest-"));
try {
  const built = spawnSync(process.execPath, [join(REPO_ROOT, "scripts", "build.mjs")], { stdio: "inherit" });
  if (built.status !== 0) throw new Error("npm run build failed");
  const scanner = join(directory, "bare-istio-scanner.mjs");
  await build({ entryPoints: [fileURLToPath(new URL("./bare-istio-scanner.ts", import.meta.url))], outfile: scanner, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "warning" });
  const log = join(directory, "access.log");
  writeLog(log, lineCount);
  const mtail = hasMtail();
  process.stdout.write(`${lineCount} lines, ${(statSync(log).size / 1024 / 1024).toFixed(0)} MiB; ${runs} runs of each; mtail ${mtail ? "installed" : "not installed (skipped)"}\n`);
  const rates: Record<"meshsight" | "scanner" | "mtail", number[]> = { meshsight: [], scanner: [], mtail: [] };
  const print = (name: string, run: Measured, extra: string): void =>
    void process.stdout.write(`  ${name.padEnd(10)} ${run.cpuSeconds.toFixed(2).padStart(6)} CPU-s  ${Math.round(lineCount / run.cpuSeconds).toLocaleString("en").padStart(9)} lines/CPU-s  max RSS ${run.maxRssMiB.toFixed(0)} MiB  ${extra}\n`);
  for (let run = 1; run <= runs; run++) {
    process.stdout.write(`run ${run}\n`);
    const dataDir = join(directory, `data-${run}`);
    const ingest = measured(process.execPath, ["bin/meshsight.mjs", "ingest", "--format", "istio", "--service", SERVICE, "--instance", INSTANCE, "--data-dir", dataDir, log]);
    rates.meshsight.push(lineCount / ingest.cpuSeconds);
    print("meshsight", ingest, ingest.stdout.split("\n")[0] ?? "");
    rmSync(dataDir, { recursive: true, force: true });
    const bare = measured(process.execPath, [scanner, log]);
    rates.scanner.push(lineCount / bare.cpuSeconds);
    print("scanner", bare, bare.stdout.trim());
    if (mtail) {
      const metrics = measured("mtail", ["--one_shot", "--one_shot_format", "prometheus", "--progs", fileURLToPath(new URL("./mtail/", import.meta.url)), "--logs", log]);
      rates.mtail.push(lineCount / metrics.cpuSeconds);
      const requests = [...metrics.stdout.matchAll(/^istio_requests\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
      print("mtail", metrics, `{"requests":${requests}}`);
    }
  }
  const meshsight = median(rates.meshsight);
  process.stdout.write(`median lines per CPU-second: meshsight ${Math.round(meshsight)}, bare scanner ${Math.round(median(rates.scanner))}${mtail ? `, mtail ${Math.round(median(rates.mtail))}` : ""}\n`);
  process.stdout.write(`meshsight / bare scanner: ${(meshsight / median(rates.scanner)).toFixed(2)}x${mtail ? `; meshsight / mtail: ${(meshsight / median(rates.mtail)).toFixed(1)}x` : ""}\n`);
  // The machine's speed drifts by tens of per cent between minutes; the three of one run are measured back to
  // back, so their ratio within the run is the steadier figure.
  const pairedRatios = (peer: number[]): string => {
    const ratios = rates.meshsight.map((rate, index) => rate / (peer[index] ?? Number.NaN));
    return `${median(ratios).toFixed(2)}x (runs: ${ratios.map((ratio) => ratio.toFixed(2)).join(", ")})`;
  };
  process.stdout.write(`median of the runs' own ratios: meshsight / bare scanner ${pairedRatios(rates.scanner)}${mtail ? `; meshsight / mtail ${pairedRatios(rates.mtail)}` : ""}\n`);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
