import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import type { Registry } from "prom-client";
import { simulateBookinfo } from "../../collector/simulator/simulate-bookinfo.ts";
import type { SimulationReport, TrafficCounts } from "../../collector/simulator/traffic-report.ts";
import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import type { StorageAdapter } from "../../core/storage/port.ts";
import { metricValue } from "./receivers/envoy-als/harness.ts";
import { startTestCollector } from "../support/test-collector.ts";
import { openClickHouse, openDuckDb, type OpenedStorage } from "../support/test-storages.ts";

/**
 * Who called whom, when the entries name no caller: the bookinfo simulator over real gRPC ALS streams, with
 * no Kubernetes and no static mapping, so that peer metadata (dropped here) is the only direct source. Every
 * in-mesh caller must still be found, by its mTLS identity or by pairing request ids, and the relations
 * stored must be exactly the ones sent, with no `UNKNOWN` caller but the browser in front of the gateway.
 */

const logger = pino({ level: "silent" });
const GATEWAY = "istio-ingressgateway.istio-system";

type RelationCounts = Map<string, { client: TrafficCounts; server: TrafficCounts }>;

async function storedRelations(storage: StorageAdapter, fromMs: number): Promise<RelationCounts> {
  const rows = await storage.queryMetrics({ scope: "relation", fromMs, toMs: fromMs + 10 * 60_000, resolution: "minute", groupByTime: false });
  const relations: RelationCounts = new Map();
  for (const row of rows) {
    const key = `${row.service} -> ${row.name}`;
    const counts = relations.get(key) ?? { client: { calls: 0, errors: 0 }, server: { calls: 0, errors: 0 } };
    const side = row.detectPoint === "server" ? counts.server : counts.client;
    side.calls += row.calls;
    side.errors += row.errors;
    relations.set(key, counts);
  }
  return relations;
}

function sentRelations(report: SimulationReport): RelationCounts {
  return new Map(Object.entries(report.relations));
}

/** Server-side calls inside the mesh: every one must have been attributed. */
function inMeshServerCalls(report: SimulationReport): number {
  return Object.entries(report.relations)
    .filter(([key]) => !key.startsWith(`${UNKNOWN_SERVICE} `))
    .reduce((sum, [, counts]) => sum + counts.server.calls, 0);
}

interface Scenario {
  name: string;
  dropMtls: number;
  tcp: boolean;
  /** Whether in-mesh callers come from request-id pairing (true) or from mTLS identities (false). */
  isPairedByRequestId: boolean;
}

const SCENARIOS: readonly Scenario[] = [
  { name: "no peer metadata: callers named by their mTLS identity", dropMtls: 0, tcp: true, isPairedByRequestId: false },
  { name: "no peer metadata, no mTLS: callers named by pairing request ids", dropMtls: 1, tcp: false, isPairedByRequestId: true },
];

function runAgainst(storageName: string, openStorage: () => Promise<OpenedStorage>): void {
  for (const scenario of SCENARIOS) {
    describe(`call attribution on ${storageName}, ${scenario.name}`, () => {
      let storage: StorageAdapter;
      let cleanup: () => Promise<void>;
      let registry: Registry;
      let report: SimulationReport;
      const startTimeMs = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;

      before(async () => {
        ({ storage, cleanup } = await openStorage());
        await storage.start();
        const running = await startTestCollector({ storage, logger });
        registry = running.registry;
        report = await simulateBookinfo({
          target: running.alsTarget,
          requests: 200,
          startTimeMs,
          durationMs: 50_000,
          tcp: scenario.tcp,
          dropPeerMetadata: 1,
          dropMtls: scenario.dropMtls,
          faults: [{ kind: "abort", service: "ratings", fraction: 0.3 }],
          seed: 11,
        });
        // Stopping gives up calls still waiting for a caller and flushes every open minute.
        await running.stop();
      });

      after(async () => {
        await storage.close();
        await cleanup();
      });

      it("stores exactly the relations sent, calls and errors on both sides", async () => {
        assert.deepEqual(report.streamErrors, []);
        const stored = await storedRelations(storage, startTimeMs);
        assert.deepEqual(Object.fromEntries(stored), Object.fromEntries(sentRelations(report)));
      });

      it("has no UNKNOWN caller but the outside caller of the ingress gateway", async () => {
        const stored = await storedRelations(storage, startTimeMs);
        const fromUnknown = [...stored.keys()].filter((key) => key.startsWith(`${UNKNOWN_SERVICE} `));
        assert.deepEqual(fromUnknown, [`${UNKNOWN_SERVICE} -> ${GATEWAY}`]);
        assert.equal(stored.get(`${UNKNOWN_SERVICE} -> ${GATEWAY}`)?.server.calls, report.requests);
      });

      it("counts each leg left unattributed by reason, and the pairings", async () => {
        const unattributed = (reason: string): Promise<number> => metricValue(registry, "meshsight_unattributed_calls_total", { reason });
        assert.equal(await unattributed("outside_caller"), report.requests);
        assert.equal(await unattributed("no_client_leg"), 0);
        assert.equal(await unattributed("no_request_id"), 0);
        assert.equal(await unattributed("pairing_full"), 0);
        // Callers whose sidecar had not yet opened its stream (its identity unknown) are found by request id.
        const paired = await metricValue(registry, "meshsight_calls_attributed_by_request_id_total");
        const byIdentity = await metricValue(registry, "meshsight_callers_named_total", { by: "mtls_identity" });
        assert.equal(paired + byIdentity, inMeshServerCalls(report));
        assert.equal(await metricValue(registry, "meshsight_callers_named_total", { by: "peer_metadata" }), 0);
        assert.equal(await metricValue(registry, "meshsight_callers_named_total", { by: "address" }), 0);
        if (scenario.isPairedByRequestId) assert.equal(byIdentity, 0);
        else assert.ok(byIdentity > paired, `mTLS identities named ${byIdentity} callers, request ids ${paired}`);
      });
    });
  }
}

runAgainst("DuckDB", () => openDuckDb(logger));
runAgainst("ClickHouse", () => openClickHouse(logger, "attribution"));
