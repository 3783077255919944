import type { FastifyPluginAsync } from "fastify";
import { createError } from "../../core/http/errors.ts";
import type { ActionBook, ActionRecord } from "./action-book.ts";
import { ActionNotApprovableError, type ActionRunner } from "./action-runner.ts";

const MAX_LISTED = 1_000;

const view = (record: ActionRecord) => ({
  ...record,
  createdAt: new Date(record.createdAtMs).toISOString(),
  ...(record.expiresAtMs === undefined ? {} : { expiresAt: new Date(record.expiresAtMs).toISOString() }),
});

/** Action records and approvals (docs/self-healing.md); approving needs actions:write (core/http/auth.ts). */
export function actionRoutes(runner: ActionRunner, book: ActionBook, now: () => number): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Querystring: { status?: string; limit?: string } }>("/api/v1/actions", { config: { scope: "read" } }, async (request) => {
      const limit = request.query.limit === undefined ? 100 : Number(request.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LISTED) throw createError("MS_INVALID_PARAMETER", { name: "limit", detail: `expected an integer 1..${MAX_LISTED}` });
      return book.list(now(), { limit, ...(request.query.status === undefined ? {} : { status: request.query.status }) }).map(view);
    });

    app.get<{ Params: { id: string } }>("/api/v1/actions/:id", { config: { scope: "read" } }, async (request) => {
      const record = book.get(request.params.id);
      if (!record) throw createError("MS_NOT_FOUND", { kind: "action", name: request.params.id });
      book.expireIfDue(record, now());
      return view(record);
    });

    app.post<{ Params: { id: string } }>("/api/v1/actions/:id/approve", { config: { scope: "actions:write" } }, async (request) => {
      try {
        const record = await runner.approve(request.params.id, request.principal);
        if (!record) throw createError("MS_NOT_FOUND", { kind: "action", name: request.params.id });
        return view(record);
      } catch (error) {
        // Expired or already handled: the request itself cannot succeed, whoever sends it.
        if (error instanceof ActionNotApprovableError) throw createError("MS_ACTION_NOT_APPROVABLE", { detail: error.message });
        throw error;
      }
    });
  };
}
