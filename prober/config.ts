import { z } from "zod";
import { integerField } from "../core/config/fields.ts";
import { defineSection } from "../core/config/section.ts";

/** A list from YAML, or comma-separated from env and flags. */
const pathList = () =>
  z
    .preprocess(
      (value) => (typeof value === "string" ? value.split(",").map((part) => part.trim()).filter((part) => part !== "") : value),
      z.array(z.string({ error: "expected a list of file or directory paths" })),
    )
    .default([]);

const optionalPath = () =>
  z.preprocess((value) => (value === "" ? undefined : value), z.string({ error: "expected a file path" }).optional());

/** The prober's settings (docs/probes.md). */
export const proberSection = defineSection(
  z.strictObject({
    caseFiles: pathList(),
    casesStoreFile: optionalPath(),
    workerConcurrency: integerField(1, 10_000).default(64),
    maxCases: integerField(1, 100_000).default(2_000),
    maxTargetsPerCase: integerField(1, 10_000).default(100),
    minIntervalMs: integerField(100, 3_600_000).default(1_000),
    resultBatchSize: integerField(1, 100_000).default(1_000),
    resultFlushIntervalMs: integerField(10, 600_000).default(1_000),
    maxBufferedResults: integerField(1, 10_000_000).default(100_000),
    maxOnDemandRuns: integerField(1, 100_000).default(256),
    maxBlackboxProbes: integerField(1, 100_000).default(64),
  }),
  [
    { key: "caseFiles", env: "MESHSIGHT_PROBE_CASE_FILES", flag: "probe-case-files", description: "YAML probe case files or directories loaded at start (comma-separated)." },
    { key: "casesStoreFile", env: "MESHSIGHT_PROBE_CASES_STORE_FILE", flag: "probe-cases-store-file", description: "Where cases defined through the API are kept (default <dataDir>/probe-cases.json)." },
    { key: "workerConcurrency", env: "MESHSIGHT_PROBE_WORKER_CONCURRENCY", flag: "probe-worker-concurrency", description: "Queued probe runs at once in this process." },
    { key: "maxCases", env: "MESHSIGHT_PROBE_MAX_CASES", flag: "probe-max-cases", description: "Probe cases kept at most (files and API together)." },
    { key: "maxTargetsPerCase", env: "MESHSIGHT_PROBE_MAX_TARGETS_PER_CASE", flag: "probe-max-targets-per-case", description: "Targets one case may list." },
    { key: "minIntervalMs", env: "MESHSIGHT_PROBE_MIN_INTERVAL_MS", flag: "probe-min-interval-ms", description: "Shortest schedule.every of a queued case and of a resident case." },
    { key: "resultBatchSize", env: "MESHSIGHT_PROBE_RESULT_BATCH_SIZE", flag: "probe-result-batch-size", description: "Probe results per storage write." },
    { key: "resultFlushIntervalMs", env: "MESHSIGHT_PROBE_RESULT_FLUSH_INTERVAL_MS", flag: "probe-result-flush-interval-ms", description: "How often buffered probe results are written." },
    { key: "maxBufferedResults", env: "MESHSIGHT_PROBE_MAX_BUFFERED_RESULTS", flag: "probe-max-buffered-results", description: "Probe results held while storage is slow; older ones are dropped and counted beyond it." },
    { key: "maxOnDemandRuns", env: "MESHSIGHT_PROBE_MAX_ON_DEMAND_RUNS", flag: "probe-max-on-demand-runs", description: "Manual and event runs in flight at once; more get 503." },
    { key: "maxBlackboxProbes", env: "MESHSIGHT_PROBE_MAX_BLACKBOX_PROBES", flag: "probe-max-blackbox-probes", description: "Concurrent /probe (blackbox exporter) requests; more get 503." },
  ],
);

export type ProberConfig = z.output<typeof proberSection.schema>;
