import { z } from "zod";
import { enumField, integerField, optionalPathField, shareField, textListField } from "../core/config/fields.ts";
import { defineSection } from "../core/config/section.ts";

/** An optional name matching `pattern`; empty means unset so an env variable can switch it off. */
const optionalName = (pattern: RegExp, expected: string) =>
  z.preprocess((value) => (value === "" ? undefined : value), z.string({ error: expected }).regex(pattern, { error: expected }).optional());

/** `service` or `service.namespace`: the namespace is split off at the one dot. */
export const SERVICE_NAME_PATTERN = /^[^\s.]+(\.[^\s.]+)?$/;
/** `pod`, `pod.namespace` or `ip:port`, which has dots of its own, so only spaces are refused. */
export const INSTANCE_NAME_PATTERN = /^\S+$/;

/** The collector's settings: ingest bounds, naming, aggregation and sampling (docs/configuration.md). */
export const collectorSection = defineSection(
  z.strictObject({
    alsMaxStreams: integerField(1, 1_000_000).default(10_000),
    alsMaxConnectionAgeMs: integerField(0, 86_400_000).default(600_000),
    alsMaxConnectionAgeGraceMs: integerField(0, 86_400_000).default(30_000),
    endpointRulesFile: optionalPathField(),
    maxEndpointsPerService: integerField(1, 1_000_000).default(1_000),
    latenessSeconds: integerField(0, 3_600).default(120),
    flushIntervalSeconds: integerField(1, 3_600).default(10),
    apdexThresholdMs: integerField(1, 3_600_000).default(500),
    slowThresholdMs: integerField(1, 3_600_000).default(1_000),
    samplesPerServicePerSecond: integerField(0, 1_000_000).default(10),
    uniformSampleRate: shareField(0.01),
    kubernetes: enumField(["auto", "off"], "auto"),
    staticMappingFile: optionalPathField(),
    accessLogFiles: textListField("expected a list of file paths"),
    accessLogFormat: z.string({ error: "expected a format name or custom:<format string>" }).default("istio"),
    accessLogOffsetsFile: optionalPathField(),
    accessLogIdentity: enumField(["static", "kubernetes"], "static"),
    accessLogService: optionalName(SERVICE_NAME_PATTERN, "expected service or service.namespace (no spaces, at most one dot)"),
    accessLogInstance: optionalName(INSTANCE_NAME_PATTERN, "expected pod, pod.namespace or ip:port (no spaces)"),
    accessLogRole: enumField(["auto", "sidecar", "router", "waypoint"], "auto"),
    accessLogStartAt: enumField(["beginning", "end"], "beginning"),
  }),
  [
    { key: "alsMaxStreams", env: "MESHSIGHT_ALS_MAX_STREAMS", flag: "als-max-streams", description: "Concurrent ALS streams accepted; more are refused with RESOURCE_EXHAUSTED." },
    { key: "alsMaxConnectionAgeMs", env: "MESHSIGHT_ALS_MAX_CONNECTION_AGE_MS", flag: "als-max-connection-age-ms", description: "After this long (+/-10% jitter) an ALS connection gets an HTTP/2 GOAWAY, so Envoy's next stream opens a new connection and re-balances across replicas (0 = never)." },
    { key: "alsMaxConnectionAgeGraceMs", env: "MESHSIGHT_ALS_MAX_CONNECTION_AGE_GRACE_MS", flag: "als-max-connection-age-grace-ms", description: "How long streams on a connection past its age may go on before the connection is closed; what was received is handed over (0 = wait for the streams to end)." },
    { key: "endpointRulesFile", env: "MESHSIGHT_ENDPOINT_RULES_FILE", flag: "endpoint-rules-file", description: "YAML file of endpoint grouping rules such as /api/products/{id}." },
    { key: "maxEndpointsPerService", env: "MESHSIGHT_MAX_ENDPOINTS_PER_SERVICE", flag: "max-endpoints-per-service", description: "Distinct endpoints per service per hour; the rest fold into {overflow}." },
    { key: "latenessSeconds", env: "MESHSIGHT_LATENESS_SECONDS", flag: "lateness-seconds", description: "How long after its end a minute still takes late records: by the clock for live input (ALS, new lines of tailed files, POST /api/v1/logs); by the newest minute read before it for history (meshsight ingest, what a tailed file held when tailing began)." },
    { key: "flushIntervalSeconds", env: "MESHSIGHT_FLUSH_INTERVAL_SECONDS", flag: "flush-interval-seconds", description: "How often aggregated minutes are written to storage (the current minute as a partial sum)." },
    { key: "apdexThresholdMs", env: "MESHSIGHT_APDEX_THRESHOLD_MS", flag: "apdex-threshold-ms", description: "Apdex threshold T: satisfied <= T, tolerating <= 4T." },
    { key: "slowThresholdMs", env: "MESHSIGHT_SLOW_THRESHOLD_MS", flag: "slow-threshold-ms", description: "Calls at least this slow are sampled like errors." },
    { key: "samplesPerServicePerSecond", env: "MESHSIGHT_SAMPLES_PER_SERVICE_PER_SECOND", flag: "samples-per-service-per-second", description: "Error and slow records kept per service per second." },
    { key: "uniformSampleRate", env: "MESHSIGHT_UNIFORM_SAMPLE_RATE", flag: "uniform-sample-rate", description: "Share (0..1) of the other records kept as samples." },
    { key: "kubernetes", env: "MESHSIGHT_KUBERNETES", flag: "kubernetes", description: "auto: resolve peer IPs through the Kubernetes API when a kubeconfig or service account is found; off: never." },
    { key: "staticMappingFile", env: "MESHSIGHT_STATIC_MAPPING_FILE", flag: "static-mapping-file", description: "YAML mapping of IPs/CIDRs to services, used without Kubernetes." },
    { key: "accessLogFiles", env: "MESHSIGHT_ACCESS_LOG_FILES", flag: "access-log-files", description: "Access-log files or glob patterns to tail (comma-separated; a list in YAML); none: no tailing." },
    { key: "accessLogFormat", env: "MESHSIGHT_ACCESS_LOG_FORMAT", flag: "access-log-format", description: "Format of tailed files: envoy, istio, json, mosn or custom:<format string>." },
    { key: "accessLogOffsetsFile", env: "MESHSIGHT_ACCESS_LOG_OFFSETS_FILE", flag: "access-log-offsets-file", description: "Where tail offsets are saved (default <dataDir>/access-log-offsets.json)." },
    { key: "accessLogIdentity", env: "MESHSIGHT_ACCESS_LOG_IDENTITY", flag: "access-log-identity", description: "Who wrote the tailed lines: static (accessLogService/accessLogInstance) or kubernetes (pod and namespace from kubelet log paths such as /var/log/pods/<ns>_<pod>_<uid>/istio-proxy/0.log)." },
    { key: "accessLogService", env: "MESHSIGHT_ACCESS_LOG_SERVICE", flag: "access-log-service", description: "service[.namespace] of the proxy writing the tailed files; with kubernetes identity, used for paths that name no pod." },
    { key: "accessLogInstance", env: "MESHSIGHT_ACCESS_LOG_INSTANCE", flag: "access-log-instance", description: "pod[.namespace] or ip:port of that proxy (static identity)." },
    { key: "accessLogRole", env: "MESHSIGHT_ACCESS_LOG_ROLE", flag: "access-log-role", description: "sidecar, router (gateway) or waypoint; auto: router for gateway pods, else sidecar." },
    { key: "accessLogStartAt", env: "MESHSIGHT_ACCESS_LOG_START_AT", flag: "access-log-start-at", description: "Where to start a file with no saved offset when meshsight starts: beginning or end (skip its history)." },
  ],
);

export type CollectorConfig = z.output<(typeof collectorSection)["schema"]>;
