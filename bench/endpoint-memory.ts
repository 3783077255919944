/**
 * Endpoint cardinality vs memory: one client sends 1,000,000 distinct URLs to three services through the
 * collector pipeline (access-log entries logged by the services' sidecars, handed over as the receivers do),
 * and this prints RSS and heap every 100k URLs, the cap's overflow count, and at the end the endpoints each
 * service has in storage as the query API reports them. Memory should level off after warm-up: endpoint
 * naming groups ids, caps distinct names per service, and every memo on the way is bounded (docs/architecture.md,
 * "Dimensions"). Prints, never asserts.
 *
 *   npx tsx bench/endpoint-memory.ts [--urls 1000000] [--every 100000]
 */
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Registry, type Histogram } from "prom-client";
import type { AccessLogEntry, ProxyIdentity } from "../core/model/access-log.ts";
import { buildApp } from "../core/http/app.ts";
import { DEFAULT_BACKPRESSURE, deliverWithBackpressure } from "../collector/receivers/access-log/deliver.ts";
import { newAccessLogEntry } from "../core/model/access-log.ts";
import { identityFromStatic } from "../collector/receivers/access-log/source-identity.ts";
import { printFigures, startBenchCollector, type RunningCollector } from "./collector-harness.ts";

const { values } = parseArgs({
  options: {
    urls: { type: "string", default: "1000000" },
    every: { type: "string", default: "100000" },
  },
});
const urlCount = Number(values.urls);
const sampleEvery = Number(values.every);
const BATCH = 2000;
const CLIENT_ADDRESS = "10.44.7.21";

const SERVICES: readonly ProxyIdentity[] = ["catalog", "search", "orders"].map((service, index) =>
  identityFromStatic({ service, namespace: "shop", instance: `${service}-v1-7d9f8b6c5-q${index}x2z`, ip: `10.44.3.${10 + index}` }),
);

const WORDS = ["red", "blue", "shoe", "lamp", "desk", "chair", "wool", "oak", "mint", "jade", "sale", "new", "kids", "home"];

/** A readable slug unique to `n` (`red-lamp-oak-...`): names, not ids, so grouping keeps each one distinct. */
function slug(n: number): string {
  const parts: string[] = [];
  let rest = n;
  do {
    parts.push(WORDS[rest % WORDS.length] as string);
    rest = Math.floor(rest / WORDS.length);
  } while (rest > 0);
  return parts.join("-");
}

/**
 * The n-th distinct URL. Most carry ids that grouping folds (`/products/{id}/reviews`, `/orders/{uuid}`);
 * a quarter are distinct names (search slugs, catalog pages) that only the per-service cap can stop.
 */
function url(n: number): { method: string; path: string } {
  switch (n % 4) {
    case 0:
      return { method: "GET", path: `/api/v1/products/${n}/reviews?page=${n % 7}` };
    case 1:
      return { method: "GET", path: `/orders/${n.toString(16).padStart(8, "0")}-4a8c-4b7e-9d2f-${n.toString(16).padStart(12, "0")}` };
    case 2:
      return { method: "POST", path: `/search/${slug(n)}` };
    default:
      return { method: "GET", path: `/catalog/${slug(n)}/page` };
  }
}

function inboundEntry(n: number, proxy: ProxyIdentity, timeMs: number): AccessLogEntry {
  const { method, path } = url(n);
  const entry = newAccessLogEntry("http");
  entry.startTimeMs = timeMs;
  entry.protocol = "http";
  entry.upstreamCluster = "inbound|8080||";
  entry.downstreamRemoteAddress = `${CLIENT_ADDRESS}:${32768 + (n % 28000)}`;
  entry.downstreamLocalAddress = `${proxy.ip}:8080`;
  entry.upstreamRemoteAddress = `${proxy.ip}:8080`;
  entry.method = method;
  entry.authority = `${proxy.self.service}:8080`;
  entry.path = path;
  entry.responseCode = n % 97 === 0 ? 503 : 200;
  entry.responseFlags = n % 97 === 0 ? "UF" : "";
  entry.durationMs = entry.timeToLastDownstreamTxMs = 3 + (n % 40);
  entry.bytesSent = 512;
  entry.requestId = `req-${n}`;
  return entry;
}

async function metricValue(registry: RunningCollector["registry"], name: string): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).reduce((sum, value) => sum + value.value, 0);
}

/** Flushes finished so far (a flush observes its duration once it has written). */
async function flushesDone(registry: RunningCollector["registry"]): Promise<number> {
  const histogram = registry.getSingleMetric("meshsight_flush_duration_seconds") as Histogram | undefined;
  const values = (await histogram?.get())?.values ?? [];
  return values.find((value) => value.metricName === "meshsight_flush_duration_seconds_count")?.value ?? 0;
}

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

const running = await startBenchCollector();
try {
  process.stdout.write("urls sent   rss        heap used  overflowed calls  open entity-minutes\n");
  let sent = 0;
  while (sent < urlCount) {
    const proxy = SERVICES[(sent / BATCH) % SERVICES.length] as ProxyIdentity;
    const now = Date.now();
    const entries: AccessLogEntry[] = [];
    for (let n = sent; n < Math.min(sent + BATCH, urlCount); n++) entries.push(inboundEntry(n, proxy, now));
    const taken = await deliverWithBackpressure(running.collector.pipeline, proxy, entries, { ...DEFAULT_BACKPRESSURE, keepsProcessAlive: true });
    sent += taken;
    if (sent % sampleEvery === 0 || sent === urlCount) {
      const memory = process.memoryUsage();
      const overflowed = await metricValue(running.registry, "meshsight_endpoint_overflow_total");
      const open = await metricValue(running.registry, "meshsight_aggregate_open_entity_minutes");
      process.stdout.write(`${String(sent).padStart(9)}   ${mib(memory.rss).padEnd(9)}  ${mib(memory.heapUsed).padEnd(9)}  ${String(overflowed).padStart(16)}  ${String(open).padStart(19)}\n`);
    }
  }

  // Wait for a flush that started after the last batch (the one in progress may have drained before it).
  const flushedBefore = await flushesDone(running.registry);
  const deadline = Date.now() + 60_000;
  while ((await flushesDone(running.registry)) < flushedBefore + 2) {
    if (Date.now() > deadline) throw new Error("no flush within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  const app = buildApp({ logger: pino({ level: "warn" }), registry: new Registry(), readinessChecks: [], bodyLimitBytes: 1024 * 1024, routes: running.collector.routes });
  const endpointsPerService: Record<string, string | number> = {};
  for (const proxy of SERVICES) {
    const response = await app.inject({ method: "GET", url: `/api/v1/services/${encodeURIComponent(proxy.self.service)}/endpoints` });
    const endpoints = response.json<Array<{ name: string }>>();
    const overflow = endpoints.some((endpoint) => endpoint.name === "{overflow}") ? " (incl. {overflow})" : "";
    endpointsPerService[`endpoints of ${proxy.self.service}`] = `${endpoints.length}${overflow}`;
  }
  await app.close();
  printFigures("Endpoint cardinality vs memory (distinct URLs through the collector pipeline)", {
    "distinct URLs sent": sent,
    ...endpointsPerService,
    "calls folded into {overflow}": await metricValue(running.registry, "meshsight_endpoint_overflow_total"),
    "RSS after the flush and the queries": mib(process.memoryUsage().rss),
    "final heap used": mib(process.memoryUsage().heapUsed),
  });
} finally {
  await running.stop();
}
