import { z } from "zod";
import { enumField, integerField, listFromText, optionalPathField, optionalUrlField, textField, textListField } from "../core/config/fields.ts";
import { defineSection } from "../core/config/section.ts";
import { EGRESS_ENTRY_EXPECTED, parseEgressEntry } from "./egress/egress-rules.ts";

/** Egress entries: address ranges, addresses or host names (prober/egress/egress-rules.ts). */
const egressEntries = () =>
  z.preprocess(listFromText, z.array(z.string({ error: EGRESS_ENTRY_EXPECTED }).refine((entry) => parseEgressEntry(entry) !== null, { error: EGRESS_ENTRY_EXPECTED }))).default([]);

/** `NAME=value` pairs: a mapping in YAML, or "A=1,B=2" from env and flags. */
const environmentMap = () =>
  z
    .preprocess(
      (value) => (typeof value === "string" ? Object.fromEntries(value.split(",").filter((pair) => pair.trim() !== "").map((pair) => splitPair(pair))) : value),
      z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "expected environment variable names" }), z.string({ error: "expected NAME=value pairs" })),
    )
    .default({});

function splitPair(pair: string): [string, string] {
  const equals = pair.indexOf("=");
  return equals < 0 ? [pair.trim(), ""] : [pair.slice(0, equals).trim(), pair.slice(equals + 1)];
}

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The prober's settings (docs/probes.md). */
export const proberSection = defineSection(
  z.strictObject({
    caseFiles: textListField("expected a list of file or directory paths"),
    casesStoreFile: optionalPathField(),
    workerConcurrency: integerField(1, 10_000).default(64),
    maxCases: integerField(1, 100_000).default(2_000),
    maxTargetsPerCase: integerField(1, 10_000).default(100),
    minIntervalMs: integerField(100, 3_600_000).default(1_000),
    resultBatchSize: integerField(1, 100_000).default(200),
    resultFlushIntervalMs: integerField(10, 600_000).default(1_000),
    maxBufferedResults: integerField(1, 10_000_000).default(100_000),
    maxOnDemandRuns: integerField(1, 100_000).default(256),
    maxBlackboxProbes: integerField(1, 100_000).default(64),
    highPriorityConcurrency: integerField(1, 10_000).default(16),
    lowPriorityConcurrency: integerField(1, 10_000).default(16),
    scriptCasesDir: optionalPathField(),
    scriptMemoryMb: integerField(8, 4_096).default(64),
    scriptMaxMemoryMb: integerField(8, 4_096).default(512),
    scriptEnv: environmentMap(),
    scriptMaxCompiledCases: integerField(1, 100_000).default(500),
    k8sJobReportingUrl: optionalUrlField(["http", "https"]),
    k8sJobNamespace: textField("default").refine((name) => NAMESPACE.test(name), { error: "expected a Kubernetes namespace name" }),
    k8sJobMaxPendingReports: integerField(1, 100_000).default(1_000),
    egress: z
      .strictObject({
        allow: egressEntries(),
        deny: egressEntries(),
        defaultAction: enumField(["allow", "deny"], "allow"),
      })
      .prefault({}),
    filesDir: optionalPathField(),
    blackboxConfigFile: optionalPathField(),
  }).refine((config) => config.scriptMemoryMb <= config.scriptMaxMemoryMb, { error: "must not exceed scriptMaxMemoryMb", path: ["scriptMemoryMb"] }),
  [
    { key: "caseFiles", env: "MESHSIGHT_PROBE_CASE_FILES", flag: "probe-case-files", description: "YAML probe case files or directories loaded at start (comma-separated)." },
    { key: "casesStoreFile", env: "MESHSIGHT_PROBE_CASES_STORE_FILE", flag: "probe-cases-store-file", description: "Where cases defined through the API are kept (default <dataDir>/probe-cases.json)." },
    { key: "workerConcurrency", env: "MESHSIGHT_PROBE_WORKER_CONCURRENCY", flag: "probe-worker-concurrency", description: "Queued probe runs at once in this process." },
    { key: "maxCases", env: "MESHSIGHT_PROBE_MAX_CASES", flag: "probe-max-cases", description: "Probe cases kept at most (files and API together)." },
    { key: "maxTargetsPerCase", env: "MESHSIGHT_PROBE_MAX_TARGETS_PER_CASE", flag: "probe-max-targets-per-case", description: "Targets one case may list." },
    { key: "minIntervalMs", env: "MESHSIGHT_PROBE_MIN_INTERVAL_MS", flag: "probe-min-interval-ms", description: "Shortest schedule.every of a queued case and of a resident case." },
    { key: "resultBatchSize", env: "MESHSIGHT_PROBE_RESULT_BATCH_SIZE", flag: "probe-result-batch-size", description: "Probe results per storage write. The embedded DuckDB appends a batch synchronously (~0.1 ms a row), so big batches delay scheduled runs; with ClickHouse 1000 or more is fine." },
    { key: "resultFlushIntervalMs", env: "MESHSIGHT_PROBE_RESULT_FLUSH_INTERVAL_MS", flag: "probe-result-flush-interval-ms", description: "How often buffered probe results are written." },
    { key: "maxBufferedResults", env: "MESHSIGHT_PROBE_MAX_BUFFERED_RESULTS", flag: "probe-max-buffered-results", description: "Probe results held while storage is slow; older ones are dropped and counted beyond it." },
    { key: "maxOnDemandRuns", env: "MESHSIGHT_PROBE_MAX_ON_DEMAND_RUNS", flag: "probe-max-on-demand-runs", description: "Manual and event runs in flight at once; more get 503." },
    { key: "maxBlackboxProbes", env: "MESHSIGHT_PROBE_MAX_BLACKBOX_PROBES", flag: "probe-max-blackbox-probes", description: "Concurrent /probe (blackbox exporter) requests; more get 503." },
    { key: "highPriorityConcurrency", env: "MESHSIGHT_PROBE_HIGH_PRIORITY_CONCURRENCY", flag: "probe-high-priority-concurrency", description: "Queued runs of priority: high cases at once in this process (their own workers, never behind normal or low runs)." },
    { key: "lowPriorityConcurrency", env: "MESHSIGHT_PROBE_LOW_PRIORITY_CONCURRENCY", flag: "probe-low-priority-concurrency", description: "Queued runs of priority: low cases at once in this process (workerConcurrency is for normal ones)." },
    { key: "scriptCasesDir", env: "MESHSIGHT_PROBE_SCRIPT_CASES_DIR", flag: "probe-script-cases-dir", description: "Directory of TypeScript script cases; the script kind is off without it." },
    { key: "scriptMemoryMb", env: "MESHSIGHT_PROBE_SCRIPT_MEMORY_MB", flag: "probe-script-memory-mb", description: "Heap limit of a script case's process when its spec gives no memoryLimitMb." },
    { key: "scriptMaxMemoryMb", env: "MESHSIGHT_PROBE_SCRIPT_MAX_MEMORY_MB", flag: "probe-script-max-memory-mb", description: "The largest memoryLimitMb a script case may ask for." },
    { key: "scriptEnv", env: "MESHSIGHT_PROBE_SCRIPT_ENV", flag: "probe-script-env", description: "The only environment script cases see (NAME=value, comma-separated); never the prober's own." },
    { key: "scriptMaxCompiledCases", env: "MESHSIGHT_PROBE_SCRIPT_MAX_COMPILED_CASES", flag: "probe-script-max-compiled-cases", description: "Compiled script cases kept in memory for reuse (least recently used go first)." },
    { key: "k8sJobReportingUrl", env: "MESHSIGHT_PROBE_K8S_JOB_REPORTING_URL", flag: "probe-k8s-job-reporting-url", description: "KH_REPORTING_URL given to k8s-job checker pods: meshsight's /api/v1/kuberhealthy/check as pods reach it; the k8s-job kind is off without it." },
    { key: "k8sJobNamespace", env: "MESHSIGHT_PROBE_K8S_JOB_NAMESPACE", flag: "probe-k8s-job-namespace", description: "Namespace of k8s-job checker Jobs whose spec names none." },
    { key: "k8sJobMaxPendingReports", env: "MESHSIGHT_PROBE_K8S_JOB_MAX_PENDING_REPORTS", flag: "probe-k8s-job-max-pending-reports", description: "k8s-job runs waiting for their checker's report at once; more fail with an error." },
    {
      key: "egress.allow",
      env: "MESHSIGHT_PROBE_EGRESS_ALLOW",
      flag: "probe-egress-allow",
      description: "Destinations probes may reach despite the built-in denials (loopback, link-local, cloud metadata, the storage and queue hosts): CIDRs, addresses or host names (*.example.com), comma-separated.",
    },
    { key: "egress.deny", env: "MESHSIGHT_PROBE_EGRESS_DENY", flag: "probe-egress-deny", description: "Destinations probes may never reach: CIDRs, addresses or host names, comma-separated." },
    {
      key: "egress.defaultAction",
      env: "MESHSIGHT_PROBE_EGRESS_DEFAULT_ACTION",
      flag: "probe-egress-default-action",
      description: "What happens to a destination no entry and no built-in rule names: allow (private ranges included) or deny (only allow-listed destinations).",
    },
    { key: "blackboxConfigFile", env: "MESHSIGHT_BLACKBOX_CONFIG", flag: "blackbox-config", description: "A blackbox_exporter modules file (its blackbox.yml, unchanged) whose modules /probe?module= runs (docs/probes.md)." },
    { key: "filesDir", env: "MESHSIGHT_PROBE_FILES_DIR", flag: "probe-files-dir", description: "Directory the files named in probe specs (a tls case's caFile) are read from; such paths may not leave it." },
  ],
);

export type ProberConfig = z.output<typeof proberSection.schema>;
