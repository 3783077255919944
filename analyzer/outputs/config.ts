import { z } from "zod";
import { integerField } from "../../core/config/fields.ts";
import { defineSection } from "../../core/config/section.ts";

export const OUTPUT_TYPES = ["webhook", "skywalking", "alertmanager", "slack", "dingtalk", "feishu"] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

/** Types whose protocol has a signing secret; a secret on any other type would silently do nothing. */
const SIGNED_TYPES: readonly OutputType[] = ["webhook", "dingtalk", "feishu"];
/**
 * Types that can page per incident. Alertmanager groups alerts itself (its route's group_by) and leases each one;
 * a SkyWalking AlarmMessage is one alarm: both stay per alert.
 */
const INCIDENT_TYPES: readonly OutputType[] = ["webhook", "slack", "dingtalk", "feishu"];

const httpUrl = (what: string) =>
  z.string({ error: `expected the ${what} URL (http:// or https://)` }).refine(
    (text) => URL.canParse(text) && ["http:", "https:"].includes(new URL(text).protocol),
    { error: `expected the ${what} URL (http:// or https://)` },
  );

const outputTarget = z
  .strictObject({
    // Names appear as metric labels and in rules' `outputs`, so they stay short and plain.
    name: z.string({ error: "expected an output name" }).regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: "expected an output name of 1-64 letters, digits, '_', '.', '-'" }),
    type: z.enum(OUTPUT_TYPES, { error: `expected one of ${OUTPUT_TYPES.join(", ")}` }),
    url: httpUrl("receiver"),
    secret: z.string({ error: "expected the signing secret as a string" }).min(1, { error: "expected a non-empty secret" }).optional(),
    headers: z.record(z.string(), z.string({ error: "expected header values as strings" })).default({}),
    timeoutMs: integerField(100, 120_000).default(10_000),
    notify: z.enum(["alert", "incident"], { error: "expected notify: alert or incident" }).default("alert"),
  })
  .refine((target) => target.secret === undefined || SIGNED_TYPES.includes(target.type), {
    error: `secret is only used by types ${SIGNED_TYPES.join(", ")}`,
    path: ["secret"],
  })
  .refine((target) => target.notify === "alert" || INCIDENT_TYPES.includes(target.type), {
    error: `notify: incident is only for types ${INCIDENT_TYPES.join(", ")}`,
    path: ["notify"],
  });

export type OutputTarget = z.output<typeof outputTarget>;

/** YAML gives a list; env and flags give a JSON array as text. Text that is not JSON stays text so zod names it. */
function parseJsonText(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

const targetList = z
  .preprocess(parseJsonText, z.array(outputTarget, { error: "expected a list of outputs (a YAML list, or a JSON array in env and flags)" }))
  .default([])
  .refine((targets) => new Set(targets.map((target) => target.name)).size === targets.length, { error: "output names must be unique" });

/** Alerting outputs (docs/alerting.md, "Outputs"). */
export const outputsSection = defineSection(
  z.strictObject({
    targets: targetList,
    retryAttempts: integerField(1, 50).default(6),
    retryBackoffMs: integerField(1, 3_600_000).default(2_000),
    workerConcurrency: integerField(1, 1_000).default(8),
    deliveryLogSize: integerField(1, 1_000_000).default(1_000),
    alertmanagerResendIntervalMs: integerField(1_000, 3_600_000).default(60_000),
    publicUrl: httpUrl("public meshsight").default("http://localhost:8080"),
  }),
  [
    { key: "targets", env: "MESHSIGHT_ALERT_OUTPUTS", flag: "alert-outputs", description: "Alert outputs: a list of {name, type, url, secret?, headers?, timeoutMs, notify: alert or incident} (YAML list, or a JSON array in env/flag)." },
    { key: "retryAttempts", env: "MESHSIGHT_ALERT_OUTPUT_RETRY_ATTEMPTS", flag: "alert-output-retry-attempts", description: "Delivery tries per notification and output, the first included." },
    { key: "retryBackoffMs", env: "MESHSIGHT_ALERT_OUTPUT_RETRY_BACKOFF_MS", flag: "alert-output-retry-backoff-ms", description: "First retry delay; it doubles on each further retry." },
    { key: "workerConcurrency", env: "MESHSIGHT_ALERT_OUTPUT_CONCURRENCY", flag: "alert-output-concurrency", description: "Deliveries in flight at once in this process, so one slow receiver never holds up the others." },
    { key: "deliveryLogSize", env: "MESHSIGHT_ALERT_DELIVERY_LOG_SIZE", flag: "alert-delivery-log-size", description: "Delivery attempts kept for GET /api/v1/alert-deliveries (oldest dropped first)." },
    { key: "alertmanagerResendIntervalMs", env: "MESHSIGHT_ALERTMANAGER_RESEND_INTERVAL_MS", flag: "alertmanager-resend-interval-ms", description: "Shortest time between re-sends of a still-firing alert to Alertmanager." },
    { key: "publicUrl", env: "MESHSIGHT_PUBLIC_URL", flag: "public-url", description: "meshsight's URL as people reach it; alert links and Alertmanager's generatorURL point there." },
  ],
);

export type OutputsConfig = z.output<typeof outputsSection.schema>;
