/**
 * Access-log parsing throughput: writes a file of Istio-format lines to a temp dir, then reads it the way the
 * FileTailer does (4 MiB chunks -> line splitter -> compiled format parser) and prints lines per CPU-second
 * and max RSS. Prints, never asserts (docs/architecture.md: benchmarks print figures).
 *
 *   npx tsx bench/access-log-parse.ts [--lines 1000000] [--format istio|json] [--chunk-mib 1]
 *
 * What dominates is garbage collection of the entries a chunk yields while they wait for delivery (every
 * entry of a chunk is alive at once): 1 MiB chunks (~3k lines) keep them in the young generation; 4 MiB
 * chunks promote them and cost ~30%. `node --max-semi-space-size=64` recovers most of that at 4 MiB.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AccessLogEntry } from "../core/model/access-log.ts";
import { createLineParser } from "../collector/receivers/access-log/formats.ts";
import { AccessLogLineDecoder } from "../collector/receivers/access-log/line-decoder.ts";

const { values } = parseArgs({
  options: {
    lines: { type: "string", default: "1000000" },
    format: { type: "string", default: "istio" },
    "chunk-mib": { type: "string", default: "1" },
  },
});
const lineCount = Number(values.lines);
const format = values.format;
const chunkBytes = Number(values["chunk-mib"]) * 1024 * 1024;

const SERVICES = ["reviews", "ratings", "details", "productpage", "httpbin"];
const CODES = [200, 200, 200, 200, 201, 204, 404, 503];

function istioLine(index: number): string {
  const service = SERVICES[index % SERVICES.length] as string;
  const code = CODES[index % CODES.length] as number;
  const isInbound = index % 2 === 0;
  const cluster = isInbound ? "inbound|9080||" : `outbound|9080||${service}.default.svc.cluster.local`;
  const flags = code === 503 ? "UH" : "-";
  const second = String(index % 60).padStart(2, "0");
  return `[2024-05-01T10:17:${second}.${String(index % 1000).padStart(3, "0")}Z] "GET /api/v1/${service}/${index % 977} HTTP/1.1" ${code} ${flags} via_upstream - "-" 0 ${295 + (index % 50)} ${index % 90} ${index % 80} "-" "Mozilla/5.0 (X11; Linux x86_64) curl/8.5.0" "6f1e3b9a-4a8c-4b7e-9d2f-${String(index).padStart(12, "0")}" "${service}:9080" "10.44.${index % 7}.27:9080" ${cluster} 10.44.1.23:37652 10.0.45.184:9080 10.44.1.23:${40000 + (index % 20000)} outbound_.9080_._.${service}.default.svc.cluster.local default`;
}

function jsonLine(index: number): string {
  return JSON.stringify({
    start_time: "2024-05-01T10:17:00.123Z",
    method: "GET",
    path: `/api/v1/reviews/${index % 977}`,
    protocol: "HTTP/1.1",
    response_code: CODES[index % CODES.length],
    response_flags: "-",
    bytes_received: 0,
    bytes_sent: 295,
    duration: index % 90,
    upstream_service_time: String(index % 80),
    user_agent: "curl/8.5.0",
    request_id: `req-${index}`,
    authority: "reviews:9080",
    upstream_host: "10.44.1.27:9080",
    upstream_cluster: "inbound|9080||",
    downstream_remote_address: "10.44.1.23:37652",
  });
}

const directory = mkdtempSync(join(tmpdir(), "meshsight-bench-"));
const path = join(directory, "access.log");
try {
  const render = format === "json" ? jsonLine : istioLine;
  const output = openSync(path, "w");
  for (let start = 0; start < lineCount; start += 10_000) {
    let block = "";
    for (let index = start; index < Math.min(start + 10_000, lineCount); index++) block += `${render(index)}\n`;
    writeSync(output, block);
  }
  closeSync(output);
  const fileBytes = statSync(path).size;

  const decoder = new AccessLogLineDecoder(createLineParser(format));
  const buffer = Buffer.allocUnsafe(chunkBytes);
  const entries: AccessLogEntry[] = [];
  let parsed = 0;
  let checksum = 0; // consumed so the parsed values cannot be optimised away
  const input = openSync(path, "r");
  const cpuBefore = process.cpuUsage();
  const wallBefore = process.hrtime.bigint();
  for (;;) {
    const bytesRead = readSync(input, buffer, 0, chunkBytes, null);
    if (bytesRead === 0) break;
    decoder.decode(buffer.subarray(0, bytesRead), entries);
    parsed += entries.length;
    for (const entry of entries) checksum += entry.responseCode + entry.path.length;
    entries.length = 0;
  }
  decoder.finish(entries);
  parsed += entries.length;
  const cpu = process.cpuUsage(cpuBefore);
  const wallMs = Number(process.hrtime.bigint() - wallBefore) / 1e6;
  closeSync(input);

  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const report = {
    format,
    lines: lineCount,
    parsed,
    rejected: decoder.tally.total,
    fileMiB: +(fileBytes / 1024 / 1024).toFixed(1),
    chunkMiB: chunkBytes / 1024 / 1024,
    cpuSeconds: +cpuSeconds.toFixed(3),
    wallSeconds: +(wallMs / 1000).toFixed(3),
    linesPerCpuSecond: Math.round(parsed / cpuSeconds),
    mibPerCpuSecond: +(fileBytes / 1024 / 1024 / cpuSeconds).toFixed(1),
    maxRssMiB: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    checksum,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
} finally {
  rmSync(directory, { recursive: true, force: true });
}
