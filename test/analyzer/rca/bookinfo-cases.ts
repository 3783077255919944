/**
 * The bookinfo mesh the root-cause cases share: its edges, a healthy per-minute load, and fresh embedded
 * stores holding a healthy baseline window followed by a current window with the case's fault.
 */
import assert from "node:assert/strict";
import { pino } from "pino";
import type { RcaLimits } from "../../../analyzer/rca/limits.ts";
import { createRootCauseFinder, type RankedRootCause } from "../../../analyzer/rca/root-cause.ts";
import type { RootCause } from "../../../core/model/alert.ts";
import { DuckDbStorage } from "../../../core/storage/duckdb/duckdb-storage.ts";
import type { StorageReader } from "../../../core/storage/port.ts";
import { MINUTE_MS, writeMeshWindow, type MeshWindow, type ServiceLoad } from "./mesh-fixtures.ts";

export const logger = pino({ level: "silent" });
export const RETENTION = { minuteDays: 3650, hourDays: 3650, dayDays: 3650, samplesDays: 3650, spansDays: 3650, probeResultsDays: 3650 };
export const WINDOW_MINUTES = 5;
export const NOW_MS = Date.UTC(2024, 0, 15, 12, 0);
export const CURRENT_START = NOW_MS - WINDOW_MINUTES * MINUTE_MS;
export const BASELINE_START = NOW_MS - 2 * WINDOW_MINUTES * MINUTE_MS;

export const BOOKINFO_EDGES = [
  ["istio-ingressgateway.istio-system", "productpage.default"],
  ["productpage.default", "details.default"],
  ["productpage.default", "reviews.default"],
  ["reviews.default", "ratings.default"],
  ["ratings.default", "mysqldb.default"],
] as const;

export const REVIEWS_PODS = ["reviews-v1-d66dcfdc5-kh6v7.default", "reviews-v2-7b8f6d9c5-qz2lp.default", "reviews-v3-5c9f4b7d8-x8mwn.default"];

export function healthyBookinfo(): Record<string, ServiceLoad> {
  return {
    "productpage.default": { calls: 90, errors: 0, latencyMs: 25 },
    "details.default": { calls: 90, errors: 0, latencyMs: 3 },
    "reviews.default": { instances: Object.fromEntries(REVIEWS_PODS.map((pod) => [pod, { calls: 30, errors: 0, latencyMs: 9 }])) },
    "ratings.default": { calls: 60, errors: 0, latencyMs: 3 },
    "mysqldb.default": { calls: 60, errors: 0, latencyMs: 1 },
  };
}

export type CurrentWindow = Partial<MeshWindow> & { services: Record<string, ServiceLoad> };

/** Opens embedded stores for cases and closes them all at the end. */
export class MeshStores {
  private readonly stores: DuckDbStorage[] = [];

  /** A fresh store: a baseline (healthy bookinfo unless given) and the current window. */
  async open(current: CurrentWindow, baseline: Partial<MeshWindow> = {}): Promise<DuckDbStorage> {
    const store = new DuckDbStorage({ path: ":memory:", retention: RETENTION, logger });
    this.stores.push(store);
    await store.start();
    await writeMeshWindow(store, { startMs: BASELINE_START, minutes: WINDOW_MINUTES, services: healthyBookinfo(), edges: BOOKINFO_EDGES, ...baseline });
    await writeMeshWindow(store, { startMs: CURRENT_START, minutes: WINDOW_MINUTES, edges: BOOKINFO_EDGES, ...current });
    return store;
  }

  async closeAll(): Promise<void> {
    for (const store of this.stores.splice(0)) await store.close();
  }
}

export async function findRootCause(reader: StorageReader, symptomaticServices: string[], limits: Partial<RcaLimits> = {}): Promise<RankedRootCause | null> {
  const finder = createRootCauseFinder({ reader, logger, limits });
  // The finder returns RankedRootCause under the RootCause contract; the cases read its extra fields.
  return (await finder.find({ symptomaticServices, nowMs: NOW_MS, windowMinutes: WINDOW_MINUTES })) as RankedRootCause | null;
}

export function assertVerdict(verdict: RootCause | null, service: string): asserts verdict is RankedRootCause {
  assert.ok(verdict, `a verdict naming ${service}`);
  assert.equal(verdict.service, service, `verdict ${verdict.service}: ${verdict.reason}`);
}
