import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import type { OutputTarget } from "./config.ts";
import { DELIVERY_RESULTS, type DeliveryLog, type DeliveryResult } from "./delivery-log.ts";

type QueryString = Record<string, string | undefined>;

const DEFAULT_LIMIT = 100;

function parseLimit(value: string | undefined, max: number): number {
  if (value === undefined) return Math.min(DEFAULT_LIMIT, max);
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw createError("MS_INVALID_PARAMETER", { name: "limit", detail: `expected an integer 1..${max}` });
  return limit;
}

function parseResult(value: string | undefined): DeliveryResult | undefined {
  if (value === undefined) return undefined;
  const result = DELIVERY_RESULTS.find((each) => each === value);
  if (result === undefined) throw createError("MS_INVALID_PARAMETER", { name: "result", detail: `expected one of ${DELIVERY_RESULTS.join(", ")}` });
  return result;
}

/**
 * GET /api/v1/alert-deliveries?output=&alert=&result=&limit=: the most recent delivery attempts, newest first.
 * GET /api/v1/alert-outputs: the configured outputs by name and type (never their URLs, which hold tokens).
 */
export function deliveriesRoutes(log: DeliveryLog, targets: readonly OutputTarget[]): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: QueryString }>("/api/v1/alert-deliveries", { config: { scope: "read" } }, async (request) => {
      const query = request.query;
      return log.list({ output: query.output, alertId: query.alert, result: parseResult(query.result), limit: parseLimit(query.limit, log.capacity) });
    });
    app.get("/api/v1/alert-outputs", { config: { scope: "read" } }, async () => targets.map((target) => ({ name: target.name, type: target.type, timeoutMs: target.timeoutMs, isSigned: target.secret !== undefined })));
  };
}
