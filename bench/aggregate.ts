/**
 * Aggregation throughput: feeds N realistic MeshCalls (about 50 services x 20 endpoints, 3 instances each,
 * each service calling 4 others, half the endpoints carrying ids that need grouping) through EndpointGrouper + MinuteAggregator, draining
 * closed minutes as the flusher would, and prints calls per CPU-second and memory. Prints, never asserts.
 *
 *   npx tsx bench/aggregate.ts [calls=2000000]
 */
import { loadavg } from "node:os";
import { pino } from "pino";
import { Registry } from "prom-client";
import { MinuteAggregator } from "../collector/aggregate/minute-aggregator.ts";
import { Sampler } from "../collector/aggregate/sampler.ts";
import { EndpointGrouper } from "../collector/endpoints/endpoint-grouper.ts";
import type { MeshCall } from "../core/model/access-log.ts";
import type { ServiceRef } from "../core/model/dimensions.ts";
import { RejectCounter } from "../core/telemetry/rejects.ts";

const SERVICES = 50;
const ENDPOINTS_PER_SERVICE = 20;
const INSTANCES_PER_SERVICE = 3;
/** Each service calls a few others, as in a real call graph (not every service calling every other). */
const CALLEES_PER_SERVICE = 4;
const CALLS_PER_MINUTE = 600_000;
const DRAIN_EVERY_MS = 10_000;
const METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];

/** Calls are generated in chunks of this size outside the timed section. */
const CHUNK = 10_000;

/** What a decoder and resolver would hand over: refs shared, path a fresh string per call. */
interface RawCall {
  source: ServiceRef;
  destination: ServiceRef;
  method: string;
  path: string;
  latencyMs: number;
  isError: boolean;
}

interface Endpoint {
  method: string;
  /** `{n}` is replaced by a random id per call, so the grouper sees many distinct raw paths. */
  template: string;
}

function xorshift(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function setUp(random: () => number) {
  const services = Array.from({ length: SERVICES }, (_, s) => `svc-${s}.shop`);
  const instances: ServiceRef[][] = services.map((service, s) =>
    Array.from({ length: INSTANCES_PER_SERVICE }, (_, i) => ({ service, instance: `svc-${s}-7d9f-${i}.shop` })),
  );
  const endpoints: Endpoint[][] = services.map(() =>
    Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, e) => ({
      method: METHODS[e % METHODS.length] ?? "GET",
      template: e % 2 === 0 ? `/api/v1/resource${e}/{n}/details` : `/api/v1/resource${e}/list`,
    })),
  );
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  return { instances, endpoints, pick };
}

function main(): void {
  const totalCalls = Number(process.argv[2] ?? 2_000_000);
  const random = xorshift(12345);
  const { instances, endpoints, pick } = setUp(random);
  const registry = new Registry();
  const rejects = new RejectCounter(registry, pino({ level: "silent" }));
  let nowMs = Date.UTC(2024, 4, 1, 12, 0, 0);
  const clock = (): number => nowMs;
  const grouper = new EndpointGrouper({ registry, clock });
  const aggregator = new MinuteAggregator({ registry, rejects, clock });
  const sampler = new Sampler({ registry, clock });
  const stepMs = 60_000 / CALLS_PER_MINUTE;
  let nextDrainMs = nowMs + DRAIN_EVERY_MS;
  let rows = 0;
  let accepted = 0;
  let groupingMicros = 0;
  let aggregatingMicros = 0;
  const chunk: RawCall[] = [];
  const names: string[] = new Array<string>(CHUNK).fill("");

  for (let done = 0; done < totalCalls; done += CHUNK) {
    // Inputs are made outside the timed part, a chunk at a time, as a decoder would hand over fresh strings.
    chunk.length = 0;
    for (let i = 0; i < CHUNK && done + i < totalCalls; i++) {
      const sourceIndex = Math.floor(random() * SERVICES);
      const destinationIndex = (sourceIndex + 1 + Math.floor(random() * CALLEES_PER_SERVICE)) % SERVICES;
      const endpoint = pick(endpoints[destinationIndex] ?? []);
      chunk.push({
        source: pick(instances[sourceIndex] ?? []),
        destination: pick(instances[destinationIndex] ?? []),
        method: endpoint.method,
        path: endpoint.template.replace("{n}", String(Math.floor(random() * 100_000))),
        latencyMs: 1 + random() * random() * 2000,
        isError: random() < 0.01,
      });
    }
    // Two timed phases per chunk, so the figures say where the time goes: naming, then aggregating.
    const groupingBefore = process.cpuUsage();
    for (let i = 0; i < chunk.length; i++) {
      const raw = chunk[i] as RawCall;
      names[i] = grouper.nameEndpoint(raw.destination.service, raw.method, raw.path, "http");
    }
    const grouping = process.cpuUsage(groupingBefore);
    groupingMicros += grouping.user + grouping.system;
    const aggregatingBefore = process.cpuUsage();
    for (let i = 0; i < chunk.length; i++) {
      const raw = chunk[i] as RawCall;
      nowMs += stepMs;
      const call: MeshCall = {
        timeMs: Math.floor(nowMs),
        detectPoint: (i & 1) === 0 ? "server" : "client",
        source: raw.source,
        callerLookup: "none",
        destination: raw.destination,
        endpoint: names[i] ?? "",
        component: "http",
        responseCode: raw.isError ? 503 : 200,
        isError: raw.isError,
        latencyMs: raw.latencyMs,
        bytesIn: 200,
        bytesOut: 1500,
        requestId: "",
        traceId: "",
        responseFlags: "",
      };
      if (aggregator.add(call)) {
        accepted++;
        sampler.offer(call, raw);
      }
      if (nowMs >= nextDrainMs) {
        rows += aggregator.drain(nowMs).metrics.length;
        sampler.drain();
        nextDrainMs += DRAIN_EVERY_MS;
      }
    }
    const aggregating = process.cpuUsage(aggregatingBefore);
    aggregatingMicros += aggregating.user + aggregating.system;
  }
  const cpuBeforeFinal = process.cpuUsage();
  rows += aggregator.drain(nowMs, true).metrics.length;
  const finalCpu = process.cpuUsage(cpuBeforeFinal);
  aggregatingMicros += finalCpu.user + finalCpu.system;
  const cpuSeconds = (groupingMicros + aggregatingMicros) / 1e6;
  const memory = process.memoryUsage();
  const stats = grouper.stats();
  const report = {
    calls: totalCalls,
    accepted,
    cpuSeconds: Number(cpuSeconds.toFixed(3)),
    callsPerCpuSecond: Math.round(totalCalls / cpuSeconds),
    microsPerCall: Number(((cpuSeconds * 1e6) / totalCalls).toFixed(3)),
    groupingMicrosPerCall: Number((groupingMicros / totalCalls).toFixed(3)),
    aggregatingAndSamplingMicrosPerCall: Number((aggregatingMicros / totalCalls).toFixed(3)),
    metricRows: rows,
    simulatedMinutes: Number((totalCalls / CALLS_PER_MINUTE).toFixed(1)),
    rssMiB: Math.round(memory.rss / 2 ** 20),
    heapUsedMiB: Math.round(memory.heapUsed / 2 ** 20),
    grouper: stats,
    // CPU time is process-wide (GC threads included) and this machine kind is shared: read with the load.
    loadAverage1m: Number(loadavg()[0]?.toFixed(2) ?? 0),
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main();
