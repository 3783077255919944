import { z } from "zod";

/**
 * When an entity is degraded or unhealthy. Defaults apply to every entity; the rules file's
 * `health.services` overrides them per service (its instances, endpoints and outgoing relations too).
 * Keys are kebab-case like the alarm rule fields, so one file reads consistently.
 */
export const healthThresholdsSchema = z.strictObject({
  /** Success percentage below which an entity is degraded / unhealthy. */
  "sla-degraded": z.number().min(0).max(100).default(99),
  "sla-unhealthy": z.number().min(0).max(100).default(95),
  "latency-percentile": z.enum(["p50", "p75", "p90", "p95", "p99"]).default("p99"),
  "latency-degraded-ms": z.number().positive().default(1_000),
  "latency-unhealthy-ms": z.number().positive().default(3_000),
  "apdex-degraded": z.number().min(0).max(1).default(0.85),
  "apdex-unhealthy": z.number().min(0).max(1).default(0.5),
  /** A single minute with at least this many errors and this error percentage is a burst: degraded even when the window's SLA is fine. */
  "error-burst-errors": z.number().int().positive().default(10),
  "error-burst-rate": z.number().min(0).max(100).default(20),
  /** Probe success percentage below which the entity is degraded / unhealthy. */
  "probe-success-degraded": z.number().min(0).max(100).default(100),
  "probe-success-unhealthy": z.number().min(0).max(100).default(90),
});

export type HealthThresholds = z.output<typeof healthThresholdsSchema>;

export const healthSettingsSchema = z
  .strictObject({
    defaults: healthThresholdsSchema.partial().default({}),
    services: z.record(z.string().min(1), healthThresholdsSchema.partial()).default({}),
  })
  .default({ defaults: {}, services: {} });

export type HealthSettings = z.output<typeof healthSettingsSchema>;

const BUILT_IN: HealthThresholds = healthThresholdsSchema.parse({});

/** The thresholds for one service: built-in < file defaults < that service's overrides. */
export function thresholdsFor(settings: HealthSettings, service: string): HealthThresholds {
  return { ...BUILT_IN, ...stripUndefined(settings.defaults), ...stripUndefined(settings.services[service] ?? {}) };
}

function stripUndefined<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)) as Partial<T>;
}
