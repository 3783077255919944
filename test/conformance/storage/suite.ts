/**
 * The storage conformance suite: one set of cases every storage adapter must pass (Jaeger's
 * integration.go style). A backend's test file only says how to open a fresh store and what, if
 * anything, it cannot do; it never picks or skips cases.
 *
 *   runStorageConformance("duckdb", async () => ({ adapter, cleanup }), { capabilities: { ... } });
 *
 * open() must return an adapter on a store of its own (a fresh file, database or schema), built with
 * CONFORMANCE_RETENTION. The suite calls start() itself, closes every adapter it used, then cleanup().
 */
import { describe } from "node:test";
import type { RetentionPolicy, StorageAdapter } from "../../../core/storage/port.ts";
import { registerEntityAndSampleCases } from "./entity-sample-cases.ts";
import { registerHostileNameCases } from "./hostile-name-cases.ts";
import { registerLifecycleCases } from "./lifecycle-cases.ts";
import { registerMetricsCases } from "./metrics-cases.ts";
import { registerProbeCases } from "./probe-cases.ts";
import { registerRollupCases } from "./rollup-cases.ts";
import { registerSpanCases } from "./span-cases.ts";

export interface OpenedStorage {
  adapter: StorageAdapter;
  cleanup(): Promise<void>;
  /** A new adapter on the same store, for the "reopen an existing store" case (see `reopensExistingStore`). */
  reopen?: () => Promise<StorageAdapter>;
}

/**
 * What a backend may declare it cannot do. Every flag defaults to true (the full contract); a false
 * flag makes the affected case check the weaker promise instead, and says so in the test output.
 */
export interface StorageCapabilities {
  /** open() results provide reopen(); false for a backend with no way to open a second adapter on one store. */
  reopensExistingStore: boolean;
  /** enforceRetention deletes exactly at the cutoff millisecond; false where whole day partitions are dropped. */
  exactRetentionCutoff: boolean;
}

export interface ConformanceOptions {
  capabilities?: Partial<StorageCapabilities>;
}

/** The retention every conformance store must be built with; the retention case relies on these numbers. */
export const CONFORMANCE_RETENTION: RetentionPolicy = { minuteDays: 2, hourDays: 10, dayDays: 40, samplesDays: 1, spansDays: 3, probeResultsDays: 5 };

/** What each group of cases receives. */
export interface ConformanceContext {
  capabilities: StorageCapabilities;
  /** Opens a fresh, started store, runs `use`, then closes it and cleans up whatever happened. */
  withStore: (use: (adapter: StorageAdapter, opened: OpenedStorage) => Promise<void>) => Promise<void>;
}

export function runStorageConformance(
  name: string,
  open: () => Promise<{ adapter: StorageAdapter; cleanup(): Promise<void> }>,
  options: ConformanceOptions = {},
): void {
  const capabilities: StorageCapabilities = { reopensExistingStore: true, exactRetentionCutoff: true, ...options.capabilities };
  const context: ConformanceContext = {
    capabilities,
    async withStore(use) {
      const opened: OpenedStorage = await open();
      try {
        await opened.adapter.start();
        await use(opened.adapter, opened);
      } finally {
        await opened.adapter.close().finally(() => opened.cleanup());
      }
    },
  };
  void describe(`storage conformance: ${name}`, () => {
    registerMetricsCases(context);
    registerRollupCases(context);
    registerEntityAndSampleCases(context);
    registerLifecycleCases(context);
    registerHostileNameCases(context);
    registerSpanCases(context);
    registerProbeCases(context);
  });
}
