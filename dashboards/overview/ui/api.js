/* global fetch, URLSearchParams, AbortSignal */
// The page reads only the public read API (docs/api.md, docs/probes.md); paths are relative so the page
// also works when a reverse proxy mounts meshsight under a path prefix.

/** A slow API must not pile up requests behind the auto-refresh. */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * @typedef {{ name: string, layer: string, cpm: number, cpmNow: number, sla: number, p95: number, apdex: number, calls: number, errors: number, measuredBy: "self" | "callers" }} ServiceSummary
 * @typedef {{ name: string, cpm: number, cpmNow: number, sla: number, p95: number }} EntitySummary
 * @typedef {{ name: string, isReal: boolean, cpm: number, cpmNow: number, sla: number }} TopologyNode
 * @typedef {{ source: string, target: string, detectPoints: string[], components: string[], cpm: number, cpmNow: number, sla: number, worstSla: number, p95: number }} TopologyEdge
 * @typedef {{ nodes: TopologyNode[], edges: TopologyEdge[] }} Topology
 * @typedef {{ t: number, v: number | null }} SeriesPoint
 * @typedef {{ name: string, kind: string, service: string, targets: string[] }} ProbeCase
 * @typedef {{ probe: string, target: string, status: string, startedMs: number, durationMs: number, message: string }} ProbeResult
 * @typedef {{ service: string, instance: string, score: number, reason: string }} RootCause
 * @typedef {{ id: string, rule: string, scope: string, entity: string, message: string, startsAtMs: number, rootCause: RootCause | null }} Alert
 * @typedef {{ fromMs: number, toMs: number }} TimeRange
 * @typedef {{ lastReceivedMs: number | null, nowMs: number }} IngestFreshness
 */

export class ApiError extends Error {
  /** @param {string} path @param {number} status @param {string} detail */
  constructor(path, status, detail) {
    super(`${path}: ${status === 0 ? "" : `HTTP ${status} `}${detail}`);
    this.status = status;
  }
}

/**
 * @param {string} path relative to the page, e.g. "api/v1/services"
 * @param {Record<string, string | number | undefined>} [params]
 * @returns {Promise<unknown>}
 */
async function getJson(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
  const url = query.size > 0 ? `${path}?${query.toString()}` : path;
  let response;
  try {
    response = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new ApiError(path, 0, error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) {
    /** @type {unknown} */
    const body = await response.json().catch(() => ({}));
    throw new ApiError(path, response.status, errorMessageOf(body) ?? response.statusText);
  }
  return response.json();
}

/**
 * The message of the API's error body `{ error: { code, message } }`, if that is what came back.
 * @param {unknown} body
 * @returns {string | undefined}
 */
function errorMessageOf(body) {
  if (typeof body !== "object" || body === null || !("error" in body)) return undefined;
  const { error } = body;
  return typeof error === "object" && error !== null && "message" in error && typeof error.message === "string" ? error.message : undefined;
}

/** @param {TimeRange} range */
const rangeParams = (range) => ({ from: range.fromMs, to: range.toMs });

/** @param {TimeRange} range @returns {Promise<ServiceSummary[]>} */
export async function fetchServices(range) {
  return /** @type {ServiceSummary[]} */ (await getJson("api/v1/services", rangeParams(range)));
}

/** @param {TimeRange} range @param {string} [service] @returns {Promise<Topology>} */
export async function fetchTopology(range, service) {
  return /** @type {Topology} */ (await getJson("api/v1/topology", { ...rangeParams(range), service }));
}

/** @param {string} service @param {"instances" | "endpoints"} kind @param {TimeRange} range @returns {Promise<EntitySummary[]>} */
export async function fetchServiceEntities(service, kind, range) {
  return /** @type {EntitySummary[]} */ (await getJson(`api/v1/services/${encodeURIComponent(service)}/${kind}`, rangeParams(range)));
}

/** @param {string} service @param {string} metric @param {TimeRange} range @returns {Promise<SeriesPoint[]>} */
export async function fetchServiceSeries(service, metric, range) {
  const body = /** @type {{ points: SeriesPoint[] }} */ (await getJson("api/v1/metrics", { scope: "service", service, metric, ...rangeParams(range) }));
  return body.points;
}

/**
 * When this meshsight last took records, by its own clock, or null when it runs no collector (404).
 * @returns {Promise<IngestFreshness | null>}
 */
export async function fetchIngestFreshness() {
  try {
    return /** @type {IngestFreshness} */ (await getJson("api/v1/ingest/freshness"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** @returns {Promise<ProbeCase[]>} */
export async function fetchProbes() {
  return /** @type {ProbeCase[]} */ (await getJson("api/v1/probes"));
}

/** @param {string} probe @param {number} limit @returns {Promise<ProbeResult[]>} */
export async function fetchProbeResults(probe, limit) {
  return /** @type {ProbeResult[]} */ (await getJson(`api/v1/probes/${encodeURIComponent(probe)}/results`, { limit }));
}

/**
 * Firing alerts, or null when this meshsight has no alerts API (the analyzer is not running): the page
 * then hides the panel instead of showing an error.
 * @returns {Promise<Alert[] | null>}
 */
export async function fetchFiringAlerts() {
  try {
    const body = /** @type {Alert[] | { alerts: Alert[] }} */ (await getJson("api/v1/alerts", { state: "firing" }));
    return Array.isArray(body) ? body : body.alerts;
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}
