import { createRequire } from "node:module";
import type * as FastifyApi from "fastify";
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { ANONYMOUS, type AuthDecision } from "./auth.ts";
import { installErrorHandlers } from "./error-handler.ts";
import { createError, errorBody } from "./errors.ts";
import { registerHealthRoutes, type ReadinessCheck } from "./health-routes.ts";
import { LAZY_SCHEMA_COMPILERS } from "./lazy-schema-compilers.ts";
import { MAX_PATH_PARAMETER_CHARS, refuseRepeatedQueryParameters } from "./request-limits.ts";
import { instrumentRequests } from "./request-telemetry.ts";

// Required, not imported: Node scans an imported CommonJS package for its named exports first
// (~0.03 CPU-s for Fastify; core/storage/duckdb/duckdb-api.ts).
const { fastify: Fastify, LogController } = createRequire(import.meta.url)("fastify") as typeof FastifyApi;

/**
 * Decides whether a request may use the API; receives the bearer token (undefined when absent). A decision
 * (core/http/auth.ts) also names the caller and tells 401 (who are you?) from 403 (not allowed to).
 */
export type AuthorizeRequest = (token: string | undefined, request: FastifyRequest) => Promise<boolean | AuthDecision>;

export interface AppDeps {
  logger: Logger;
  registry: Registry;
  /** What /readyz asks (storage, queue, ...). */
  readinessChecks: readonly ReadinessCheck[];
  bodyLimitBytes: number;
  /** Components' routes (query API, receivers over HTTP, ...); each runs in its own Fastify scope. */
  routes?: readonly FastifyPluginAsync[];
  /** Optional bearer-token check, given each request with its route's declared scope; no auth when absent. */
  authorize?: AuthorizeRequest;
  readinessTimeoutMs?: number;
}

/**
 * Builds the HTTP app without listening: tests call `inject` or listen on port 0, cli.ts listens through
 * httpServerComponent. buildApp knows no component; they bring their routes through `deps.routes`.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Typed as Fastify's base logger so the app is a plain FastifyInstance that components' plugins accept.
  // Fastify's own info lines are one "Server listening at" per interface, which httpServerComponent says
  // once per listener; routes log only errors, so warnings and up is all the app needs.
  const loggerInstance: FastifyBaseLogger = deps.logger.isLevelEnabled("info") ? deps.logger.child({}, { level: "warn" }) : deps.logger;
  const app = Fastify({
    loggerInstance,
    bodyLimit: deps.bodyLimitBytes,
    // Probes hit /healthz every few seconds; per-request logs would drown everything else.
    logController: new LogController({ disableRequestLogging: true }),
    // Closing must not wait for idle keep-alive clients, or shutdown would miss its deadline.
    forceCloseConnections: true,
    routerOptions: { maxParamLength: MAX_PATH_PARAMETER_CHARS },
    schemaController: { compilersFactory: LAZY_SCHEMA_COMPILERS },
  });
  // Handlers first: child scopes registered below inherit them.
  installErrorHandlers(app, deps.bodyLimitBytes);
  instrumentRequests(app, deps.registry);
  // Routes read the caller's name for audit records; without auth everyone is anonymous.
  app.decorateRequest("principal", ANONYMOUS);
  const { authorize } = deps;
  if (authorize) {
    app.addHook("onRequest", async (request, reply) => {
      // Routes that declare themselves open (probes, scrapers) never depend on the authorizer.
      if (request.routeOptions.config?.scope === "open") return;
      // RFC 6750: the scheme name is case-insensitive.
      const token = /^bearer +(.+)$/i.exec(request.headers.authorization ?? "")?.[1];
      const outcome = await authorize(token, request);
      const decision: AuthDecision = typeof outcome === "boolean" ? (outcome ? { isAllowed: true, principal: ANONYMOUS } : { isAllowed: false, status: 401, principal: ANONYMOUS, needed: "a valid token" }) : outcome;
      if (decision.isAllowed) {
        request.principal = decision.principal;
        return;
      }
      if (decision.status === 403) {
        const error = createError("MS_FORBIDDEN", { principal: decision.principal, scope: decision.needed });
        return reply.code(error.statusCode).send(errorBody(error));
      }
      const error = createError("MS_UNAUTHORIZED");
      return reply.code(error.statusCode).header("www-authenticate", "Bearer").send(errorBody(error));
    });
  }
  // After auth: a caller without a valid token learns nothing about the parameters.
  refuseRepeatedQueryParameters(app);
  registerHealthRoutes(app, deps.readinessChecks, deps.readinessTimeoutMs ?? 2_000);
  // Scrapers must keep working when an operator turns auth on.
  app.get("/metrics", { config: { scope: "open" } }, async (_request, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));
  for (const routes of deps.routes ?? []) void app.register(routes);
  return app;
}
