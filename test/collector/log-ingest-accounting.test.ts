import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { Counter } from "prom-client";
import { buildApp } from "../../core/http/app.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { startTestCollector, type TestCollector } from "../support/test-collector.ts";
import { waitFor } from "../support/wait-for.ts";

/**
 * Every line sent to `POST /api/v1/logs` is accounted for in the reply, through the real collector
 * pipeline: accepted means aggregated into metrics; everything else is a reject with its reason, wherever
 * it was decided (the decoder, the mesh resolver, the minute aggregator), exactly as
 * `meshsight_rejected_total` counts it. Blank lines are neither.
 */

const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
const logger = pino({ level: "silent" });

/** Envoy's default format (no cluster, no addresses): https://www.envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage#default-format-string */
function envoyDefaultLine(timeMs: number, requestId: string): string {
  return `[${new Date(timeMs).toISOString()}] "GET /ratings/1 HTTP/1.1" 200 - 0 42 7 5 "-" "curl/8.5.0" "${requestId}" "ratings:9080" "10.44.1.30:9080"`;
}

/** Istio's text format, an inbound (server-side) line of reviews. */
function istioInboundLine(timeMs: number, requestId: string): string {
  return `[${new Date(timeMs).toISOString()}] "GET /reviews/1 HTTP/1.1" 200 - via_upstream - "-" 0 295 7 6 "-" "curl/8.5.0" "${requestId}" "reviews:9080" "10.44.1.27:9080" inbound|9080|| 127.0.0.6:41854 10.44.1.27:9080 10.44.1.23:37652 outbound_.9080_._.reviews.default.svc.cluster.local default`;
}

/** Istio's text format from an ingress gateway: the outside caller's leg and the upstream leg, two calls. */
function istioGatewayLine(timeMs: number, requestId: string): string {
  return `[${new Date(timeMs).toISOString()}] "GET /productpage HTTP/1.1" 200 - via_upstream - "-" 0 5293 12 11 "10.0.0.9" "curl/8.5.0" "${requestId}" "bookinfo.example.com" "10.44.1.40:9080" outbound|9080||productpage.default.svc.cluster.local 10.44.1.5:51234 10.44.1.5:8080 10.0.0.9:40000 - -`;
}

/** meshsight_rejected_total as a scraper reads it from GET /metrics, keyed `source/reason`. */
async function scrapedRejects(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^meshsight_rejected_total\{source="([^"]+)",reason="([^"]+)"\} (\d+)$/gm)) counts[`${match[1]}/${match[2]}`] = Number(match[3]);
  return counts;
}

interface Outcome {
  lines: number;
  accepted: number;
  rejected: number;
  reasons: Record<string, number>;
}

void describe("POST /api/v1/logs accounts for every line through the pipeline", () => {
  const storage = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
  let running: TestCollector;
  let app: ReturnType<typeof buildApp>;
  let base = "";
  const recentMs = Date.now() - 5_000;

  before(async () => {
    await storage.start();
    running = await startTestCollector({ storage, logger });
    app = buildApp({ logger, registry: running.registry, readinessChecks: [], bodyLimitBytes: 1 << 20, routes: running.collector.routes });
    base = await app.listen({ host: "127.0.0.1", port: 0 });
  });
  after(async () => {
    await app.close();
    await running.stop();
    await storage.close();
  });

  const post = async (query: string, lines: string[]): Promise<Outcome> => {
    const response = await fetch(`${base}/api/v1/logs?${query}`, { method: "POST", headers: { "content-type": "text/plain" }, body: `${lines.join("\n")}\n` });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as Outcome;
  };
  const rejectsCounted = async (): Promise<Record<string, number>> => {
    const metric = await (running.registry.getSingleMetric("meshsight_rejected_total") as Counter | undefined)?.get();
    return Object.fromEntries((metric?.values ?? []).filter((value) => value.value > 0).map((value) => [`${String(value.labels.source)}/${String(value.labels.reason)}`, value.value]));
  };

  it("answers with each reason, the pipeline's included, and counts exactly that in meshsight_rejected_total", async () => {
    // A sidecar's Envoy default line names no cluster: which way the call went is unknowable.
    const envoy = await post("format=envoy&service=reviews&namespace=default", [envoyDefaultLine(recentMs, "e-1"), "", "not a line", "   ", envoyDefaultLine(recentMs, "e-2")]);
    assert.deepEqual(envoy, { lines: 3, accepted: 0, rejected: 3, reasons: { "access-log/field_count": 1, "mesh/sidecar_entry_without_cluster": 2 } });
    // Two lines aggregate; one is an hour older than the aggregator takes.
    const istio = await post("format=istio&service=reviews&namespace=default&instance=reviews-v1-abc", [
      istioInboundLine(recentMs, "i-1"),
      istioInboundLine(recentMs - 3_600_000, "i-2"),
      "",
      istioInboundLine(recentMs, "i-3"),
    ]);
    assert.deepEqual(istio, { lines: 3, accepted: 2, rejected: 1, reasons: { "aggregate/late": 1 } });
    // The same default line from a gateway is a call: its caller's leg, with no upstream leg to add.
    const gateway = await post("format=envoy&service=istio-ingressgateway&namespace=istio-system&role=router", [envoyDefaultLine(recentMs, "g-1")]);
    assert.deepEqual(gateway, { lines: 1, accepted: 1, rejected: 0, reasons: {} });
    assert.deepEqual(await rejectsCounted(), { "access-log/field_count": 1, "aggregate/late": 1, "mesh/sidecar_entry_without_cluster": 2 });
  });

  it("stores exactly the accepted lines", async () => {
    let seen: unknown = null;
    await waitFor(
      async () => {
        const response = await app.inject({ method: "GET", url: `/api/v1/services?from=${recentMs - 60_000}&to=${recentMs + 60_000}` });
        const services = response.json<{ name: string; calls: number }[]>();
        seen = services.map((service) => [service.name, service.calls]);
        return services.length === 2 && services.every((service) => service.calls > 0);
      },
      "the accepted calls in storage",
      20_000,
      () => JSON.stringify(seen),
    );
    assert.deepEqual(seen, [
      ["istio-ingressgateway.istio-system", 1],
      ["reviews.default", 2],
    ]);
  });

  it("counts a gateway line accepted when both its calls were aggregated, and each refused call as a reject, as /metrics does", async () => {
    const before = await scrapedRejects(base);
    const gateway = await post("format=istio&service=istio-ingressgateway&namespace=istio-system&role=router", [
      istioGatewayLine(recentMs - 3_600_000, "g-old-1"),
      istioGatewayLine(recentMs, "g-2"),
      istioGatewayLine(recentMs - 3_600_000, "g-old-3"),
      istioGatewayLine(recentMs, "g-4"),
      "not a line",
    ]);
    assert.deepEqual(gateway, { lines: 5, accepted: 2, rejected: 5, reasons: { "access-log/field_count": 1, "aggregate/late": 4 } });
    const after = await scrapedRejects(base);
    const added: Record<string, number> = {};
    for (const [key, value] of Object.entries(after)) if (value !== (before[key] ?? 0)) added[key] = value - (before[key] ?? 0);
    assert.deepEqual(added, gateway.reasons, "the reply's reasons are what /metrics added");
  });
});
