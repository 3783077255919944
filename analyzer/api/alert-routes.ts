import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import type { AlertState } from "../../core/model/alert.ts";
import type { AlertBook } from "../alerts/alert-book.ts";
import { groupIncidents } from "../alerts/incidents.ts";
import { alertDetail, alertSummary, incidentView } from "./alert-views.ts";

type QueryString = Record<string, string | undefined>;

const STATES: readonly AlertState[] = ["firing", "resolved"];
const MAX_LIMIT = 1_000;

/** GET /api/v1/alerts?state=&service=&rule=&limit=, GET /api/v1/alerts/:id, GET /api/v1/incidents?state=&limit= and GET /api/v1/incidents/:id (docs/alerting.md "API"). */
export function alertRoutes(book: AlertBook): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: QueryString }>("/api/v1/alerts", { config: { scope: "read" } }, async (request) => {
      const { state, service, rule } = request.query;
      const limit = listQuery(request.query);
      return book
        .list(state as AlertState | undefined)
        .filter((record) => (service === undefined || record.service === service) && (rule === undefined || record.alert.rule === rule))
        .slice(0, limit)
        .map(alertSummary);
    });

    app.get<{ Querystring: QueryString }>("/api/v1/incidents", { config: { scope: "read" } }, async (request) => {
      const limit = listQuery(request.query);
      return groupIncidents(book.snapshot())
        .filter((incident) => request.query.state === undefined || incident.state === request.query.state)
        .slice(0, limit)
        .map(incidentView);
    });

    // Where an incident's notifications link to.
    app.get<{ Params: { id: string } }>("/api/v1/incidents/:id", { config: { scope: "read" } }, async (request) => {
      const incident = groupIncidents(book.snapshot()).find((each) => each.id === request.params.id);
      if (!incident) throw createError("MS_NOT_FOUND", { kind: "incident", name: request.params.id });
      return incidentView(incident);
    });

    app.get<{ Params: { id: string } }>("/api/v1/alerts/:id", { config: { scope: "read" } }, async (request) => {
      const record = book.get(request.params.id);
      if (!record) throw createError("MS_NOT_FOUND", { kind: "alert", name: request.params.id });
      return alertDetail(record);
    });
  };
}

/** The state and limit every list takes: the limit, once both are valid. */
function listQuery(query: QueryString): number {
  const { state } = query;
  if (state !== undefined && !STATES.includes(state as AlertState)) throw createError("MS_INVALID_PARAMETER", { name: "state", detail: `expected one of ${STATES.join(", ")}` });
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw createError("MS_INVALID_PARAMETER", { name: "limit", detail: `expected an integer 1..${MAX_LIMIT}` });
  return limit;
}
