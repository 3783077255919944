import { z } from "zod";
import type { ProbeKind } from "./kinds/kind.ts";
import { InvalidProbeSpecError } from "./kinds/kind.ts";
import { parseDurationMs } from "./duration.ts";
import { nextCronFireMs } from "../core/queue/job-options.ts";

/**
 * A probe case: what to check (kind + spec), against which targets, bound to which service, and when.
 * Definitions arrive as plain data (YAML files, API bodies); parseProbeCase validates one, including the
 * kind's own spec, and throws InvalidProbeCaseError naming the field so operators can fix it at once.
 */

/** Looks a kind up by name (prober/kinds/registry.ts provides the real one). */
export type KindLookup = (name: string) => ProbeKind<unknown> | undefined;

export type ProbeSchedule =
  | { type: "every"; everyMs: number; jitterMs: number }
  | { type: "cron"; pattern: string }
  /** Runs only on demand and on events. */
  | { type: "manual" };

/** Which run queue a scheduled case uses: each priority has its own queue and workers. */
export type ProbePriority = "high" | "normal" | "low";
export const PROBE_PRIORITIES: readonly ProbePriority[] = ["high", "normal", "low"];

export interface ProbeCase {
  name: string;
  kind: string;
  targets: string[];
  /** The service the case is bound to (events and release gates select by it); "" when unbound. */
  service: string;
  schedule: ProbeSchedule;
  timeoutMs: number;
  /** Extra attempts after a failed one, within the same run. */
  retries: number;
  labels: Record<string, string>;
  resident: boolean;
  priority: ProbePriority;
  /** The kind's parsed spec (opaque here; only the kind reads it). */
  spec: unknown;
  /** The definition as given, kept for GET and persistence. */
  definition: ProbeCaseDefinition;
}

export interface CaseLimits {
  maxTargetsPerCase: number;
  /** Shortest `every` of a queue-scheduled case; a resident case may go down to minResidentIntervalMs. */
  minIntervalMs: number;
  minResidentIntervalMs: number;
  maxTimeoutMs: number;
}

export const DEFAULT_CASE_LIMITS: CaseLimits = { maxTargetsPerCase: 100, minIntervalMs: 1_000, minResidentIntervalMs: 1_000, maxTimeoutMs: 300_000 };

/** A case definition that cannot be used; `where` says which file/line or request it came from. */
export class InvalidProbeCaseError extends Error {
  override readonly name = "InvalidProbeCaseError";
}

const NAME = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const duration = (what: string) =>
  z.string({ error: `expected a duration such as "30s" for ${what}` }).refine((text) => parseDurationMs(text) !== null, {
    error: `expected a duration such as "500ms", "30s", "5m" for ${what}`,
  });

const definitionSchema = z.strictObject({
  name: z.string({ error: "expected a string" }).regex(NAME, { error: "expected lower-case letters, digits, '.', '_' or '-' (at most 63, starting and ending with a letter or digit)" }),
  kind: z.string({ error: "expected a kind name such as http" }),
  targets: z.array(z.string({ error: "expected a string" }).min(1, { error: "a target must not be empty" }), { error: "expected a list of targets" }).min(1, { error: "a case needs at least one target" }),
  service: z.string({ error: "expected a service name such as checkout.default" }).optional(),
  schedule: z
    .union(
      [
        z.strictObject({ every: duration("every"), jitter: duration("jitter").optional() }),
        z.strictObject({ cron: z.string({ error: "expected a cron expression" }) }),
      ],
      { error: 'expected { every: "30s", jitter: "5s" } or { cron: "*/5 * * * *" }' },
    )
    .optional(),
  timeout: duration("timeout").optional(),
  retries: z.int({ error: "expected an integer 0..10" }).min(0, { error: "expected an integer 0..10" }).max(10, { error: "expected an integer 0..10" }).optional(),
  labels: z.record(z.string().regex(LABEL_NAME, { error: "label names are Prometheus label names" }), z.string({ error: "label values are strings" })).optional(),
  resident: z.boolean({ error: "expected true or false" }).optional(),
  priority: z.enum(["high", "normal", "low"], { error: "expected high, normal or low" }).optional(),
  spec: z.unknown().optional(),
});

export type ProbeCaseDefinition = z.input<typeof definitionSchema>;

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_LABELS = 20;

/** Validates one definition; `where` prefixes every message ("cases/web.yaml:12", "PUT /api/v1/probes/x"). */
export function parseProbeCase(raw: unknown, kinds: KindLookup, where: string, limits: CaseLimits = DEFAULT_CASE_LIMITS): ProbeCase {
  const fail = (field: string, detail: string): never => {
    const name = typeof raw === "object" && raw !== null && "name" in raw && typeof raw.name === "string" ? ` case "${raw.name}"` : "";
    throw new InvalidProbeCaseError(`${where}:${name} field ${field}: ${detail}`);
  };
  const parsed = definitionSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "(case)";
    if (issue?.code === "unrecognized_keys") {
      fail(field, `unknown field(s) ${issue.keys.join(", ")}; allowed: ${Object.keys(definitionSchema.shape).join(", ")}`);
    }
    fail(field, issue?.code === "invalid_type" && issue.path.length === 0 ? "expected a mapping with name, kind, targets, ..." : (issue?.message ?? "invalid"));
  }
  const definition = parsed.data as ProbeCaseDefinition & { name: string };
  const kind = kinds(definition.kind);
  if (!kind) fail("kind", `unknown kind "${definition.kind}"`);
  const targets = [...new Set(definition.targets)];
  if (targets.length > limits.maxTargetsPerCase) fail("targets", `at most ${limits.maxTargetsPerCase} targets per case, got ${targets.length}`);
  if (Object.keys(definition.labels ?? {}).length > MAX_LABELS) fail("labels", `at most ${MAX_LABELS} labels`);
  const resident = definition.resident ?? false;
  const timeoutMs = definition.timeout === undefined ? DEFAULT_TIMEOUT_MS : (parseDurationMs(definition.timeout) ?? 0);
  if (timeoutMs < 1 || timeoutMs > limits.maxTimeoutMs) fail("timeout", `expected 1ms..${limits.maxTimeoutMs / 1000}s`);
  const schedule = parseSchedule(definition.schedule, resident, limits, fail);
  if (resident && schedule.type !== "every") fail("schedule", 'a resident case needs schedule.every (resident loops do not run on cron)');
  let spec: unknown;
  try {
    spec = kind!.parseSpec(definition.spec ?? {});
  } catch (error) {
    if (error instanceof InvalidProbeSpecError) fail("spec", error.message);
    throw error;
  }
  return {
    name: definition.name,
    kind: definition.kind,
    targets,
    service: definition.service ?? "",
    schedule,
    timeoutMs,
    retries: definition.retries ?? 0,
    labels: definition.labels ?? {},
    resident,
    priority: definition.priority ?? "normal",
    spec,
    definition,
  };
}

function parseSchedule(raw: ProbeCaseDefinition["schedule"], resident: boolean, limits: CaseLimits, fail: (field: string, detail: string) => never): ProbeSchedule {
  if (raw === undefined) return { type: "manual" };
  if ("cron" in raw) {
    try {
      nextCronFireMs(raw.cron, Date.now(), "cron");
    } catch (error) {
      fail("schedule.cron", error instanceof Error ? error.message.replace(/^cron: /, "") : String(error));
    }
    return { type: "cron", pattern: raw.cron };
  }
  const everyMs = parseDurationMs(raw.every) ?? 0;
  const minMs = resident ? limits.minResidentIntervalMs : limits.minIntervalMs;
  if (everyMs < minMs) fail("schedule.every", `expected at least ${minMs}ms${resident ? "" : " (use resident: true for faster loops)"}`);
  const jitterMs = raw.jitter === undefined ? 0 : (parseDurationMs(raw.jitter) ?? 0);
  if (jitterMs >= everyMs) fail("schedule.jitter", `must be shorter than every (${raw.every})`);
  return { type: "every", everyMs, jitterMs };
}

/**
 * A stable offset in [0, jitterMs) per case and target: spreads cases with the same interval over it
 * (they would all fire on the same boundary otherwise) while each keeps a steady period.
 */
export function jitterOffsetMs(probe: string, target: string, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  let hash = 2166136261;
  for (const text of [probe, "\u0000", target]) {
    for (let index = 0; index < text.length; index += 1) {
      hash ^= text.charCodeAt(index);
      hash = Math.imul(hash, 16777619);
    }
  }
  return (hash >>> 0) % jitterMs;
}
