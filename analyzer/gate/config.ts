import { z } from "zod";
import { API_SCOPES, type ApiTokenConfig } from "../../core/http/auth.ts";
import { integerField } from "../../core/config/fields.ts";
import { defineSection } from "../../core/config/section.ts";

/** A list from YAML, or comma-separated from env and flags. */
const pathList = () =>
  z
    .preprocess(
      (value) => (typeof value === "string" ? value.split(",").map((part) => part.trim()).filter((part) => part !== "") : value),
      z.array(z.string({ error: "expected a list of file or directory paths" })),
    )
    .default([]);

const optionalPath = () => z.preprocess((value) => (value === "" ? undefined : value), z.string({ error: "expected a file path" }).optional());

const TOKEN_TEXT = /^([^:\s]+):([0-9a-fA-F]{64}):(\S+)$/;

/** `name:sha256:scope|scope` (env and flags); scopes contain ':' themselves, hence the '|'. */
function tokensFromText(value: unknown): unknown {
  if (typeof value !== "string") return value;
  return value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const match = TOKEN_TEXT.exec(part);
      // Left as text so the schema below reports it with the expected form.
      return match ? { name: match[1], sha256: match[2], scopes: (match[3] ?? "").split("|") } : part;
    });
}

const tokenSchema = z.strictObject(
  {
    name: z.string({ error: "expected the token's name" }).regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: "expected a name of letters, digits, '.', '_', '@', '-'" }),
    sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, { error: "expected the token's SHA-256 as 64 hex digits (printf %s \"$TOKEN\" | sha256sum), never the token itself" }),
    scopes: z.array(z.enum(API_SCOPES, { error: `expected scopes among ${API_SCOPES.join(", ")}` })).min(1, { error: "expected at least one scope" }),
  },
  { error: "expected name:sha256:scope|scope (env, flags) or {name, sha256, scopes} (YAML)" },
);

/** Release gates (docs/gating.md) and the API's tokens (core/http/auth.ts), which guard the gates first of all. */
export const gateSection = defineSection(
  z.strictObject({
    files: pathList(),
    storeFile: optionalPath(),
    auditFile: optionalPath(),
    auditMaxBytes: integerField(4_096, 10 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
    maxGates: integerField(1, 100_000).default(1_000),
    probeResultTtlMs: integerField(0, 3_600_000).default(30_000),
    probeTimeoutMs: integerField(100, 600_000).default(60_000),
    metricsCacheTtlMs: integerField(0, 60_000).default(5_000),
    overrideDefaultTtlMs: integerField(60_000, 30 * 86_400_000).default(3_600_000),
    overrideMaxTtlMs: integerField(60_000, 30 * 86_400_000).default(7 * 86_400_000),
    auth: z
      .strictObject({
        tokens: z.preprocess(tokensFromText, z.array(tokenSchema)).default([]),
        readApisOpen: z.preprocess((value) => (value === "true" ? true : value === "false" ? false : value), z.boolean({ error: "expected true or false" })).default(true),
        protectIngest: z.preprocess((value) => (value === "true" ? true : value === "false" ? false : value), z.boolean({ error: "expected true or false" })).default(false),
      })
      .prefault({}),
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
    { key: "auth.tokens", env: "MESHSIGHT_API_TOKENS", flag: "api-tokens", description: "API bearer tokens as name:sha256:scope|scope, comma-separated (scopes: gate:check, probes:write, alerts:write, actions:write, ingest, admin). None: every API is open." },
    { key: "auth.readApisOpen", env: "MESHSIGHT_API_READ_OPEN", flag: "api-read-open", description: "GET APIs work without a token (false: any valid token is needed)." },
    { key: "auth.protectIngest", env: "MESHSIGHT_API_PROTECT_INGEST", flag: "api-protect-ingest", description: "Ingest endpoints (POST /api/v1/logs, OTLP/Zipkin over HTTP) need a token with the ingest scope." },
  ],
);

export type GateConfig = z.output<typeof gateSection.schema>;

/** The tokens as core/http/auth.ts takes them. */
export function apiTokensOf(config: GateConfig): ApiTokenConfig[] {
  return config.auth.tokens.map((token) => ({ name: token.name, sha256: token.sha256, scopes: token.scopes }));
}
