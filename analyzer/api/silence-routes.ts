import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { createError } from "../../core/http/errors.ts";
import { regexTextField } from "../rules/regex-text.ts";
import { isMatchingEverything, TooManySilencesError, type Silence, type SilenceBook } from "../alerts/silences.ts";

export interface SilenceRoutesDeps {
  silences: SilenceBook;
  /** Called after every change: re-applies silences to firing alerts and saves the state. */
  onChange: () => Promise<void>;
  now: () => number;
}

const time = z.union([z.number().int().nonnegative(), z.iso.datetime({ offset: true }).transform((text) => Date.parse(text))]);
const regex = regexTextField(1_000);

const isValidMatcher = (matcher: { value: string; isRegex: boolean }): boolean => !matcher.isRegex || regex.safeParse(matcher.value).success;

const newSilenceSchema = z
  .strictObject({
    matchers: z
      // Alertmanager's postable matcher; isRegex is required there, and defaults to false here for hand-written ones.
      .array(z.strictObject({ name: z.string().min(1).max(100), value: z.string().max(1_000), isRegex: z.boolean().default(false), isEqual: z.boolean().default(true) }))
      .min(1, "at least one matcher: a silence matching everything would mute all alerting")
      .max(50),
    startsAt: time.optional(),
    endsAt: time.optional(),
    durationMinutes: z.number().positive().max(366 * 24 * 60).optional(),
    createdBy: z.string().max(200).default(""),
    comment: z.string().max(2_000).default(""),
  })
  .refine((body) => (body.endsAt === undefined) !== (body.durationMinutes === undefined), "give exactly one of endsAt and durationMinutes")
  .refine((body) => body.matchers.every(isValidMatcher), "a regex matcher's value is not a valid regular expression")
  .refine((body) => !body.matchers.every(isValidMatcher) || !isMatchingEverything(body.matchers), { message: "at least one matcher must not match the empty string", path: ["matchers"] });

const iso = (ms: number): string => new Date(ms).toISOString();

function silenceView(silence: Silence & { state?: string }): Record<string, unknown> {
  return { ...silence, startsAt: iso(silence.startsAtMs), endsAt: iso(silence.endsAtMs) };
}

/** POST/GET /api/v1/silences, GET/DELETE /api/v1/silences/:id (Alertmanager's matcher shape). */
export function silenceRoutes(deps: SilenceRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    app.get("/api/v1/silences", { config: { scope: "read" } }, async () => deps.silences.list(deps.now()).map(silenceView));

    app.get<{ Params: { id: string } }>("/api/v1/silences/:id", { config: { scope: "read" } }, async (request) => {
      const silence = deps.silences.list(deps.now()).find((each) => each.id === request.params.id);
      if (!silence) throw createError("MS_NOT_FOUND", { kind: "silence", name: request.params.id });
      return silenceView(silence);
    });

    app.post<{ Body: unknown }>("/api/v1/silences", { config: { scope: "alerts:write" } }, async (request, reply) => {
      const parsed = newSilenceSchema.safeParse(request.body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw createError("MS_VALIDATION_FAILED", { detail: `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}` });
      }
      const nowMs = deps.now();
      const body = parsed.data;
      const startsAtMs = body.startsAt ?? nowMs;
      const endsAtMs = body.endsAt ?? startsAtMs + (body.durationMinutes ?? 0) * 60_000;
      if (endsAtMs <= Math.max(startsAtMs, nowMs)) throw createError("MS_INVALID_PARAMETER", { name: "endsAt", detail: "must be in the future and after startsAt" });
      let silence: Silence;
      try {
        silence = deps.silences.add({ matchers: body.matchers, startsAtMs, endsAtMs, createdBy: body.createdBy, comment: body.comment }, nowMs);
      } catch (error) {
        if (error instanceof TooManySilencesError) throw createError("MS_OVERLOADED", { what: "the silence list" });
        throw error;
      }
      await deps.onChange();
      return reply.code(201).send(silenceView(silence));
    });

    app.delete<{ Params: { id: string } }>("/api/v1/silences/:id", { config: { scope: "alerts:write" } }, async (request, reply) => {
      if (!deps.silences.expire(request.params.id, deps.now())) throw createError("MS_NOT_FOUND", { kind: "silence", name: request.params.id });
      await deps.onChange();
      return reply.code(204).send();
    });
  };
}
