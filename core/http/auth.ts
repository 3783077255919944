import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { Logger } from "pino";

/**
 * API security: bearer tokens configured as SHA-256 hashes (the server never holds a usable secret), compared
 * in constant time, each with scopes. Every route says what it needs where it is defined, in its Fastify
 * options (`{ config: { scope: "probes:write" } }`); this hook reads that. A route that says nothing needs
 * `admin`, so forgetting the scope of a new route fails closed.
 */

export const API_SCOPES = ["gate:check", "probes:run", "probes:write", "alerts:write", "actions:write", "ingest", "admin"] as const;
export type ApiScope = (typeof API_SCOPES)[number];

/**
 * Scopes that a broader one also grants besides `admin` (which grants all): a token that may define probe
 * cases may run them, while a `probes:run` token (a Prometheus scraping `/probe`, a pipeline firing release
 * events) can run probes without being able to create cases that send requests of its choosing.
 */
const GRANTED_ALSO_BY: Partial<Record<ApiScope, ApiScope>> = { "probes:run": "probes:write" };

/**
 * What a route needs: `open` (always: probes, scrapers, protocols that cannot send a token), `read` (open
 * unless auth.readApisOpen is false, then any valid token), `ingest` (open unless auth.protectIngest, then
 * the ingest scope), or one API scope (admin covers all of them).
 */
export type RouteScope = "open" | "read" | "ingest" | ApiScope;

declare module "fastify" {
  interface FastifyRequest {
    /** The name of the token the request came with (ANONYMOUS without one); set by buildApp's auth hook. */
    principal: string;
  }
  interface FastifyContextConfig {
    /** What the route needs (core/http/auth.ts); unset means `admin`. */
    scope?: RouteScope;
  }
}

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

/** A route that declares no scope needs this: forgetting it closes the route rather than opening it. */
const UNDECLARED: RouteScope = "admin";

/**
 * The scope a request needs: its route's declared one, `admin` for a route that declares none. A request
 * that matched no route gets its 404 like a read (GET/HEAD) or as admin (anything else).
 */
export function scopeOf(request: Pick<FastifyRequest, "method" | "routeOptions">): RouteScope {
  if (request.routeOptions.url === undefined) return request.method === "GET" || request.method === "HEAD" ? "read" : UNDECLARED;
  return request.routeOptions.config.scope ?? UNDECLARED;
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
    logger.warn("no API tokens configured (auth.tokens): every API, including gate checks, overrides and probe changes, is open to anyone who can reach the port");
  }
  const authorize = async (token: string | undefined, request: FastifyRequest): Promise<AuthDecision> => {
    if (isOpen) return { isAllowed: true, principal: ANONYMOUS };
    const needs = scopeOf(request);
    const holder = token === undefined ? undefined : findToken(tokens, token);
    return decide(needs, holder, options);
  };
  return { authorize, isOpen };
}

function decide(needs: RouteScope, holder: KnownToken | undefined, options: ApiAuthOptions): AuthDecision {
  const principal = holder?.name ?? ANONYMOUS;
  if (needs === "open") return { isAllowed: true, principal };
  if (needs === "read" && options.readApisOpen) return { isAllowed: true, principal };
  if (needs === "ingest" && !options.protectIngest) return { isAllowed: true, principal };
  const scopeNeeded: ApiScope | undefined = needs === "read" ? undefined : needs;
  const needed = scopeNeeded ?? "any valid token";
  if (!holder) return { isAllowed: false, status: 401, principal, needed };
  if (scopeNeeded === undefined || grants(holder.scopes, scopeNeeded)) return { isAllowed: true, principal };
  return { isAllowed: false, status: 403, principal, needed };
}

function grants(scopes: ReadonlySet<ApiScope>, needed: ApiScope): boolean {
  const broader = GRANTED_ALSO_BY[needed];
  return scopes.has(needed) || scopes.has("admin") || (broader !== undefined && scopes.has(broader));
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
