import type { FastifyInstance } from "fastify";
import { createError } from "./errors.ts";

/**
 * Longest path parameter, in URL characters: a name of 253 characters (a Kubernetes DNS name; service names
 * `<name>.<namespace>` reach 127 and more) even when every character is a 4-byte UTF-8 sequence sent
 * percent-encoded (12 URL characters). Fastify's default of 100 answered 414 for ordinary long names.
 */
export const MAX_PATH_PARAMETER_CHARS = 253 * 12;

/**
 * Every parameter of the API takes one value. A repeated one (`?service=a&service=b`) reaches routes as an
 * array, which none of them takes; it is refused here, naming the parameter, before any route reads it.
 */
export function refuseRepeatedQueryParameters(app: FastifyInstance): void {
  app.addHook("onRequest", async (request) => {
    const query = request.query as Record<string, unknown> | undefined;
    if (query === undefined || query === null) return;
    for (const [name, value] of Object.entries(query)) {
      if (Array.isArray(value)) throw createError("MS_INVALID_PARAMETER", { name, detail: `is given ${value.length} times; give it once` });
    }
  });
}
