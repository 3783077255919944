import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { Logger } from "pino";

/**
 * API security in one place: bearer tokens configured as SHA-256 hashes (the server never holds a usable
 * secret), compared in constant time, each with scopes; and the map saying which scope every route of the
 * project needs. A new mutating route that nobody maps here needs `admin`, so forgetting it fails closed.
 */

export const API_SCOPES = ["gate:check", "probes:write", "alerts:write", "actions:write", "ingest", "admin"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface ApiTokenConfig {
  /** Who the token is: the "who" of audit records and log lines. Never the secret. */
  name: string;
  /** Hex SHA-256 of the token (`printf %s "$TOKEN" | sha256sum`). */
  sha256: string;
  scopes: readonly ApiScope[];
}

export interface ApiAuthOptions {
  tokens: readonly ApiTokenConfig[];
  /** GET/HEAD APIs without a token; when false they need any valid token. */
  readApisOpen: boolean;
  /** Ingest endpoints (access-log lines, OTLP/Zipkin over HTTP) need the `ingest` scope; open otherwise. */
  protectIngest: boolean;
}

/** The principal of requests when no tokens are configured (everything is open then). */
export const ANONYMOUS = "anonymous";

export type AuthDecision = { isAllowed: true; principal: string } | { isAllowed: false; status: 401 | 403; principal: string; needed: string };

declare module "fastify" {
  interface FastifyRequest {
    /** The name of the token the request came with (ANONYMOUS without one); set by buildApp's auth hook. */
    principal: string;
  }
}

/** What a route needs: nothing, a read (open unless configured closed), ingest rights, or a scope. */
type Requirement = { kind: "open" } | { kind: "read" } | { kind: "ingest" } | { kind: "scope"; scope: ApiScope };

interface ScopeRule {
  methods: ReadonlySet<string>;
  /** Tested against the route pattern (`/api/v1/gates/:name/check`), or the path when no route matched. */
  path: RegExp;
  needs: Requirement;
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const READING = new Set(["GET", "HEAD"]);
const POST = new Set(["POST"]);
const scope = (name: ApiScope): Requirement => ({ kind: "scope", scope: name });

/**
 * Every route of the project that is not a plain read, first match wins. Keep this list the single place
 * where access is decided: docs/gating.md ("Security") mirrors it.
 */
export const ROUTE_SCOPE_RULES: readonly ScopeRule[] = [
  // Kuberhealthy checker pods prove who they are with their run UUID (kh-run-uuid); the protocol has no bearer token.
  { methods: POST, path: /^\/api\/v1\/kuberhealthy\/check$/, needs: { kind: "open" } },
  // Data planes: Envoy, log shippers and tracers rarely can send a bearer token, so ingest is open unless asked.
  { methods: POST, path: /^\/api\/v1\/logs$/, needs: { kind: "ingest" } },
  { methods: POST, path: /^\/v1\/traces$/, needs: { kind: "ingest" } },
  { methods: POST, path: /^\/api\/v2\/spans$/, needs: { kind: "ingest" } },
  // Release gates: checking runs probes, so even the Argo GET needs the scope.
  { methods: POST, path: /^\/api\/v1\/gates\/[^/]+\/(check|flagger)$/, needs: scope("gate:check") },
  { methods: POST, path: /^\/api\/v1\/flagger\/gate$/, needs: scope("gate:check") },
  { methods: READING, path: /^\/api\/v1\/gates\/[^/]+\/analysis$/, needs: scope("gate:check") },
  // Gate definitions and overrides (force pass/fail) decide releases: admin only.
  { methods: MUTATING, path: /^\/api\/v1\/gates(\/|$)/, needs: scope("admin") },
  { methods: MUTATING, path: /^\/api\/v1\/probes(\/|$)/, needs: scope("probes:write") },
  { methods: POST, path: /^\/api\/v1\/events$/, needs: scope("probes:write") },
  // The blackbox /probe sends traffic wherever its target says: a read in form, a probe run in effect.
  { methods: READING, path: /^\/probe$/, needs: scope("probes:write") },
  { methods: MUTATING, path: /^\/api\/v1\/(silences|alarm-rules|alerts)(\/|$)/, needs: scope("alerts:write") },
  // Approving a remediation or resetting a tripped risk guard lets destructive operations through.
  { methods: MUTATING, path: /^\/api\/v1\/(actions|guard)(\/|$)/, needs: scope("actions:write") },
  { methods: READING, path: /^\//, needs: { kind: "read" } },
];

/** Unmapped methods and paths (a new mutating route, OPTIONS, ...) are admin-only until mapped above. */
const FALLBACK: Requirement = scope("admin");

export function requirementOf(method: string, routeOrPath: string): Requirement {
  return ROUTE_SCOPE_RULES.find((rule) => rule.methods.has(method) && rule.path.test(routeOrPath))?.needs ?? FALLBACK;
}

export function sha256Hex(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

interface KnownToken {
  name: string;
  digest: Buffer;
  scopes: ReadonlySet<ApiScope>;
}

export interface ApiAuth {
  /** Plug into buildApp's `authorize`. */
  readonly authorize: (token: string | undefined, request: FastifyRequest) => Promise<AuthDecision>;
  /** True when no token is configured and every API is open. */
  readonly isOpen: boolean;
}

/**
 * Builds the authorizer once at start. With no tokens configured everything stays open (so `npm start`
 * works out of the box) and one warning says so.
 */
export function createApiAuth(options: ApiAuthOptions, logger: Logger): ApiAuth {
  const tokens: KnownToken[] = options.tokens.map((token) => ({ name: token.name, digest: digestOf(token), scopes: new Set(token.scopes) }));
  const isOpen = tokens.length === 0;
  if (isOpen) {
    logger.warn("no API tokens configured (gates.auth.tokens): every API, including gate checks, overrides and probe changes, is open to anyone who can reach the port");
  }
  const authorize = async (token: string | undefined, request: FastifyRequest): Promise<AuthDecision> => {
    if (isOpen) return { isAllowed: true, principal: ANONYMOUS };
    const needs = requirementOf(request.method, request.routeOptions.url ?? request.url.split("?", 1)[0] ?? "/");
    const holder = token === undefined ? undefined : findToken(tokens, token);
    return decide(needs, holder, options);
  };
  return { authorize, isOpen };
}

function decide(needs: Requirement, holder: KnownToken | undefined, options: ApiAuthOptions): AuthDecision {
  const principal = holder?.name ?? ANONYMOUS;
  if (needs.kind === "open") return { isAllowed: true, principal };
  if (needs.kind === "read" && options.readApisOpen) return { isAllowed: true, principal };
  if (needs.kind === "ingest" && !options.protectIngest) return { isAllowed: true, principal };
  const scopeNeeded: ApiScope | undefined = needs.kind === "scope" ? needs.scope : needs.kind === "ingest" ? "ingest" : undefined;
  const needed = scopeNeeded ?? "any valid token";
  if (!holder) return { isAllowed: false, status: 401, principal, needed };
  if (scopeNeeded === undefined || holder.scopes.has(scopeNeeded) || holder.scopes.has("admin")) return { isAllowed: true, principal };
  return { isAllowed: false, status: 403, principal, needed };
}

/**
 * Hashing the presented token first gives two 32-byte digests, so timingSafeEqual's equal-length rule always
 * holds and the time taken says nothing about the token's length or how much of it matched. Every configured
 * token is compared (no early exit), so the time does not say which one matched either.
 */
function findToken(tokens: readonly KnownToken[], presented: string): KnownToken | undefined {
  const digest = createHash("sha256").update(presented, "utf8").digest();
  let match: KnownToken | undefined;
  for (const token of tokens) {
    if (timingSafeEqual(digest, token.digest) && match === undefined) match = token;
  }
  return match;
}

function digestOf(token: ApiTokenConfig): Buffer {
  if (!/^[0-9a-fA-F]{64}$/.test(token.sha256)) throw new Error(`token ${token.name}: sha256 must be 64 hex digits (the SHA-256 of the token), not the token itself`);
  return Buffer.from(token.sha256, "hex");
}
