import { z } from "zod";
import { enumField, integerField, optionalPathField, shareField } from "../core/config/fields.ts";
import { defineSection } from "../core/config/section.ts";

/** The collector's settings: naming, aggregation and sampling (docs/configuration.md); receivers own theirs. */
export const collectorSection = defineSection(
  z.strictObject({
    endpointRulesFile: optionalPathField(),
    maxEndpointsPerService: integerField(1, 1_000_000).default(1_000),
    latenessSeconds: integerField(0, 3_600).default(120),
    flushIntervalSeconds: integerField(1, 3_600).default(10),
    flushBatchRows: integerField(1, 1_000_000).default(5_000),
    apdexThresholdMs: integerField(1, 3_600_000).default(500),
    slowThresholdMs: integerField(1, 3_600_000).default(1_000),
    samplesPerServicePerSecond: integerField(0, 1_000_000).default(10),
    uniformSampleRate: shareField(0.01),
    kubernetes: enumField(["auto", "off"], "auto"),
    staticMappingFile: optionalPathField(),
    wal: enumField(["on", "off"], "off"),
    walDir: optionalPathField(),
    walMaxBytes: integerField(1_048_576, 1_099_511_627_776).default(268_435_456),
    walSyncIntervalMs: integerField(1, 60_000).default(200),
  }),
  [
    { key: "endpointRulesFile", env: "MESHSIGHT_ENDPOINT_RULES_FILE", flag: "endpoint-rules-file", description: "YAML file of endpoint grouping rules such as /api/products/{id}." },
    { key: "maxEndpointsPerService", env: "MESHSIGHT_MAX_ENDPOINTS_PER_SERVICE", flag: "max-endpoints-per-service", description: "Distinct endpoints per service per hour; the rest fold into {overflow}." },
    { key: "latenessSeconds", env: "MESHSIGHT_LATENESS_SECONDS", flag: "lateness-seconds", description: "How long after its end a minute still takes late records: by the clock for live input (ALS, new lines of tailed files, POST /api/v1/logs); by the newest minute read before it for history (meshsight ingest, what a tailed file held when tailing began)." },
    { key: "flushIntervalSeconds", env: "MESHSIGHT_FLUSH_INTERVAL_SECONDS", flag: "flush-interval-seconds", description: "How often aggregated minutes are written to storage (the current minute as a partial sum)." },
    { key: "flushBatchRows", env: "MESHSIGHT_FLUSH_BATCH_ROWS", flag: "flush-batch-rows", description: "Rows per storage write (one INSERT on ClickHouse, one transaction on DuckDB); kept below ClickHouse's max_insert_block_size, so a metric write is one part." },
    { key: "apdexThresholdMs", env: "MESHSIGHT_APDEX_THRESHOLD_MS", flag: "apdex-threshold-ms", description: "Apdex threshold T: satisfied <= T, tolerating <= 4T." },
    { key: "slowThresholdMs", env: "MESHSIGHT_SLOW_THRESHOLD_MS", flag: "slow-threshold-ms", description: "Calls at least this slow are sampled like errors." },
    { key: "samplesPerServicePerSecond", env: "MESHSIGHT_SAMPLES_PER_SERVICE_PER_SECOND", flag: "samples-per-service-per-second", description: "Error and slow records kept per service per second." },
    { key: "uniformSampleRate", env: "MESHSIGHT_UNIFORM_SAMPLE_RATE", flag: "uniform-sample-rate", description: "Share (0..1) of the other records kept as samples." },
    { key: "kubernetes", env: "MESHSIGHT_KUBERNETES", flag: "kubernetes", description: "auto: resolve peer IPs through the Kubernetes API when a kubeconfig or service account is found; off: never." },
    { key: "staticMappingFile", env: "MESHSIGHT_STATIC_MAPPING_FILE", flag: "static-mapping-file", description: "YAML mapping of IPs/CIDRs to services, used without Kubernetes." },
    { key: "wal", env: "MESHSIGHT_WAL", flag: "wal", description: "Write-ahead buffer: on logs every ALS, POST /api/v1/logs and span (OTLP, Zipkin) batch to disk before aggregating or sampling it, so a crashed (kill -9) process replays what it had not flushed on its next start (docs/deploy.md, Crash recovery)." },
    { key: "walDir", env: "MESHSIGHT_WAL_DIR", flag: "wal-dir", description: "Directory of the write-ahead buffer (default <dataDir>/wal); one process per directory." },
    { key: "walMaxBytes", env: "MESHSIGHT_WAL_MAX_BYTES", flag: "wal-max-bytes", description: "Bytes the write-ahead buffer may hold (received, not yet in storage), for access logs and for spans each; when full, receivers push back (RESOURCE_EXHAUSTED, 429, 503)." },
    { key: "walSyncIntervalMs", env: "MESHSIGHT_WAL_SYNC_INTERVAL_MS", flag: "wal-sync-interval-ms", description: "How often the buffer is fsynced for ALS (which has no acknowledgement); POST /api/v1/logs and span receivers answer only after an fsync." },
  ],
);

export type CollectorConfig = z.output<(typeof collectorSection)["schema"]>;
