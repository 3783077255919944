import { z } from "zod";

/**
 * When an entity is degraded or unhealthy. Defaults apply to every entity; the rules file's
 * `health.services` overrides them per service (its instances, endpoints and outgoing relations too).
 * Keys are kebab-case like the alarm rule fields, so one file reads consistently.
 */
const thresholdFields = {
  /** Success percentage below which an entity is degraded / unhealthy. */
  "sla-degraded": z.number().min(0).max(100),
  "sla-unhealthy": z.number().min(0).max(100),
  "latency-percentile": z.enum(["p50", "p75", "p90", "p95", "p99"]),
  "latency-degraded-ms": z.number().positive(),
  "latency-unhealthy-ms": z.number().positive(),
  "apdex-degraded": z.number().min(0).max(1),
  "apdex-unhealthy": z.number().min(0).max(1),
  /** A single minute with at least this many errors and this error percentage is a burst: degraded even when the window's SLA is fine. */
  "error-burst-errors": z.number().int().positive(),
  "error-burst-rate": z.number().min(0).max(100),
  /** Probe success percentage below which the entity is degraded / unhealthy. */
  "probe-success-degraded": z.number().min(0).max(100),
  "probe-success-unhealthy": z.number().min(0).max(100),
};

export type HealthThresholds = { [Key in keyof typeof thresholdFields]: z.output<(typeof thresholdFields)[Key]> };

const BUILT_IN: HealthThresholds = {
  "sla-degraded": 99,
  "sla-unhealthy": 95,
  "latency-percentile": "p99",
  "latency-degraded-ms": 1_000,
  "latency-unhealthy-ms": 3_000,
  "apdex-degraded": 0.85,
  "apdex-unhealthy": 0.5,
  "error-burst-errors": 10,
  "error-burst-rate": 20,
  "probe-success-degraded": 100,
  "probe-success-unhealthy": 90,
};

/** Overrides: every key optional, no defaults, so a service's two keys do not reset the file's defaults. */
const thresholdOverridesSchema = z.strictObject(thresholdFields).partial();

export const healthSettingsSchema = z
  .strictObject({
    defaults: thresholdOverridesSchema.default({}),
    services: z.record(z.string().min(1), thresholdOverridesSchema).default({}),
  })
  .default({ defaults: {}, services: {} });

export type HealthSettings = z.output<typeof healthSettingsSchema>;

/** The thresholds for one service: built-in < file defaults < that service's overrides. */
export function thresholdsFor(settings: HealthSettings, service: string): HealthThresholds {
  return { ...BUILT_IN, ...stripUndefined(settings.defaults), ...stripUndefined(settings.services[service] ?? {}) };
}

/**
 * thresholdsFor for many entities of one round: the defaults are resolved once and shared (read-only) by
 * every service without its own settings, instead of merged again per entity.
 */
export function thresholdsResolver(settings: HealthSettings): (service: string) => Readonly<HealthThresholds> {
  const defaults = thresholdsFor(settings, "");
  return (service) => (settings.services[service] === undefined ? defaults : thresholdsFor(settings, service));
}

function stripUndefined<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined)) as Partial<T>;
}
