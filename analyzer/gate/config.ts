import { z } from "zod";
import { integerField, optionalPathField, textListField } from "../../core/config/fields.ts";
import { defineSection } from "../../core/config/section.ts";

/** Release gates (docs/gating.md). The API's tokens, once `gates.auth`, are core's `auth` section now. */
export const gateSection = defineSection(
  z.strictObject({
    files: textListField("expected a list of file or directory paths"),
    storeFile: optionalPathField(),
    auditFile: optionalPathField(),
    auditMaxBytes: integerField(4_096, 10 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
    maxGates: integerField(1, 100_000).default(1_000),
    probeResultTtlMs: integerField(0, 3_600_000).default(30_000),
    probeTimeoutMs: integerField(100, 600_000).default(60_000),
    metricsCacheTtlMs: integerField(0, 60_000).default(5_000),
    overrideDefaultTtlMs: integerField(60_000, 30 * 86_400_000).default(3_600_000),
    overrideMaxTtlMs: integerField(60_000, 30 * 86_400_000).default(7 * 86_400_000),
  }),
  [
    { key: "files", env: "MESHSIGHT_GATE_FILES", flag: "gate-files", description: "YAML gate files or directories loaded at start (comma-separated)." },
    { key: "storeFile", env: "MESHSIGHT_GATE_STORE_FILE", flag: "gate-store-file", description: "Where gates defined through the API and overrides are kept (default <dataDir>/gates.json)." },
    { key: "auditFile", env: "MESHSIGHT_GATE_AUDIT_FILE", flag: "gate-audit-file", description: "Append-only JSON Lines audit log of gate decisions and overrides (default <dataDir>/gate-audit.jsonl)." },
    { key: "auditMaxBytes", env: "MESHSIGHT_GATE_AUDIT_MAX_BYTES", flag: "gate-audit-max-bytes", description: "Size at which the audit file is rotated to <file>.1 (one old file is kept)." },
    { key: "maxGates", env: "MESHSIGHT_GATE_MAX_GATES", flag: "gate-max-gates", description: "Gates kept at most (files and API together)." },
    { key: "probeResultTtlMs", env: "MESHSIGHT_GATE_PROBE_RESULT_TTL_MS", flag: "gate-probe-result-ttl-ms", description: "How long a release probe run answers later checks of the same gate (0 = run probes on every check)." },
    { key: "metricsCacheTtlMs", env: "MESHSIGHT_GATE_METRICS_CACHE_TTL_MS", flag: "gate-metrics-cache-ttl-ms", description: "How long one gate's SLO reading answers later checks (0 = query storage on every check)." },
    { key: "probeTimeoutMs", env: "MESHSIGHT_GATE_PROBE_TIMEOUT_MS", flag: "gate-probe-timeout-ms", description: "Longest a gate check waits for its probe cases." },
    { key: "overrideDefaultTtlMs", env: "MESHSIGHT_GATE_OVERRIDE_DEFAULT_TTL_MS", flag: "gate-override-default-ttl-ms", description: "Expiry of an override that gives none." },
    { key: "overrideMaxTtlMs", env: "MESHSIGHT_GATE_OVERRIDE_MAX_TTL_MS", flag: "gate-override-max-ttl-ms", description: "Longest an override may last." },
  ],
);

export type GateConfig = z.output<typeof gateSection.schema>;

