import { z } from "zod";
import { API_SCOPES } from "../../http/auth.ts";
import { switchField } from "../fields.ts";
import { defineSection } from "../section.ts";

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

/**
 * The API's bearer tokens and what stays open without one (core/http/auth.ts, docs/gating.md "Security").
 * They guard every component's routes, so they live in core; the keys were once under `gates.auth`, which a
 * config file may still use (with a deprecation warning).
 */
export const authSection = defineSection(
  z.strictObject({
    tokens: z.preprocess(tokensFromText, z.array(tokenSchema)).default([]),
    readApisOpen: switchField(true),
    protectIngest: switchField(false),
  }),
  [
    {
      key: "tokens",
      env: "MESHSIGHT_API_TOKENS",
      flag: "api-tokens",
      formerly: "gates.auth.tokens",
      description: "API bearer tokens as name:sha256:scope|scope, comma-separated (scopes: gate:check, probes:run, probes:write, alerts:write, actions:write, ingest, admin). None: every API is open.",
    },
    { key: "readApisOpen", env: "MESHSIGHT_API_READ_OPEN", flag: "api-read-open", formerly: "gates.auth.readApisOpen", description: "GET APIs work without a token (false: any valid token is needed)." },
    {
      key: "protectIngest",
      env: "MESHSIGHT_API_PROTECT_INGEST",
      flag: "api-protect-ingest",
      formerly: "gates.auth.protectIngest",
      description: "Ingest endpoints (POST /api/v1/logs, OTLP/Zipkin over HTTP) need a token with the ingest scope.",
    },
  ],
);

export type AuthConfig = z.output<typeof authSection.schema>;
