/**
 * The evidence behind a verdict, each item with a `ref` an on-call engineer can open in meshsight's API:
 * the metric changes against the baseline, sampled error access-log records, trace ids of failing
 * traces, failing probe runs. Metric items also carry the numbers, so outputs can print "2.0% -> 48.5%".
 */
import type { Evidence } from "../../core/model/alert.ts";
import type { SampledRecord } from "../../core/model/sample.ts";
import type { StorageReader } from "../../core/storage/port.ts";
import { milliseconds, percent } from "./format.ts";
import type { InstanceFocus } from "./instance-focus.ts";
import type { TimeWindow, WindowStats } from "./mesh-snapshot.ts";
import type { ProbeSignal } from "./probe-signals.ts";
import type { QueryBudget } from "./query-budget.ts";
import { CHANGE_LOOKBACK_MS, type RecentChange } from "./recent-changes.ts";

/** Evidence with the figures behind a metric change; a structural `Evidence`, so alerts carry it as is. */
export interface RcaEvidence extends Evidence {
  /** Metric evidence only: what changed and its value in the baseline and the current window. */
  metric?: "error_rate" | "p95" | "calls";
  before?: number;
  after?: number;
}

export interface EvidenceSubject {
  service: string;
  focus: InstanceFocus | null;
  now: WindowStats;
  before: WindowStats;
  probes: ProbeSignal | undefined;
  /** Callers, sorted: their client-side records are the only samples of a service that logs nothing. */
  callers: readonly string[];
}

/** Each change cited by the verdict, linking the service's instances over the time it covers. */
export function changeEvidence(service: string, changes: readonly RecentChange[], toMs: number): RcaEvidence[] {
  return changes.map((change) => {
    const at = new Date(change.atMs).toISOString();
    if (change.kind === "release-gate") {
      return { kind: "change", summary: `${whatChanged(change)} at ${at}`, ref: `/api/v1/gate-audit?gate=${encodeURIComponent(change.gate)}` };
    }
    if (change.kind === "probe-case-changed") {
      return { kind: "change", summary: `${whatChanged(change)} at ${at}`, ref: `/api/v1/probes/${encodeURIComponent(change.probe)}/results?from=${change.atMs - CHANGE_LOOKBACK_MS}&to=${toMs}` };
    }
    if (change.kind === "probe-failing") {
      return { kind: "change", summary: `probe ${change.probe} started failing at ${at}`, ref: `/api/v1/probes/${encodeURIComponent(change.probe)}/results?from=${change.atMs - CHANGE_LOOKBACK_MS}&to=${toMs}` };
    }
    return {
      kind: "change",
      summary: `${change.instance}${change.version === "" ? "" : ` (${change.version})`} ${change.kind === "instance-appeared" ? "first served traffic" : "stopped serving traffic"} at ${at}`,
      ref: `/api/v1/services/${encodeURIComponent(service)}/instances?from=${change.atMs - CHANGE_LOOKBACK_MS}&to=${toMs}`,
    };
  });
}

/** The change itself, without the "began 2 min after " of the verdict's reason. */
function whatChanged(change: RecentChange): string {
  return change.summary.replace(/^began .+? after /, "");
}

export function metricEvidence(subject: EvidenceSubject, window: TimeWindow): RcaEvidence[] {
  const { service, now, before } = subject;
  const range = `from=${window.fromMs}&to=${window.toMs}`;
  const seriesRef = (metric: string): string => `/api/v1/metrics?scope=service&service=${encodeURIComponent(service)}&metric=${metric}&${range}`;
  const items: RcaEvidence[] = [];
  if (now.errorRate !== before.errorRate) {
    const witness = now.isSeenOnlyByCallers ? " (as its callers see it: its own proxy logged nothing)" : "";
    items.push({
      kind: "metric",
      summary: `${service} error rate ${percent(before.errorRate)} -> ${percent(now.errorRate)} (${now.errors} errors in ${now.calls} calls)${witness}`,
      ref: seriesRef("sla"),
      metric: "error_rate",
      before: before.errorRate,
      after: now.errorRate,
    });
  }
  if (now.p95Ms !== before.p95Ms && now.calls > 0) {
    items.push({ kind: "metric", summary: `${service} p95 ${milliseconds(before.p95Ms)} -> ${milliseconds(now.p95Ms)}`, ref: seriesRef("p95"), metric: "p95", before: before.p95Ms, after: now.p95Ms });
  }
  items.push({ kind: "metric", summary: `${service} calls ${before.calls} -> ${now.calls}`, ref: seriesRef("cpm"), metric: "calls", before: before.calls, after: now.calls });
  if (subject.focus !== null) {
    items.push({ kind: "metric", summary: subject.focus.summary, ref: `/api/v1/services/${encodeURIComponent(service)}/instances?${range}` });
  }
  return items;
}

export function probeEvidence(subject: EvidenceSubject, window: TimeWindow): RcaEvidence[] {
  const probes = subject.probes;
  if (probes === undefined) return [];
  return probes.failedRuns.map((run) => ({
    kind: "probe",
    summary: `probe ${run.probe} (${run.kind}) on ${run.target}: ${run.status}${run.message === "" ? "" : ` - ${run.message}`} (${probes.failures} of ${probes.runs} runs failed)`,
    ref: `/api/v1/probes/${encodeURIComponent(run.probe)}/results?from=${window.fromMs}&to=${window.toMs}`,
  }));
}

/** Error samples of the service (of the named instance first), else its callers' failed calls to it. */
export async function sampleEvidence(reader: StorageReader, budget: QueryBudget, subject: EvidenceSubject, window: TimeWindow, max: number): Promise<RcaEvidence[]> {
  const query = (service: string): Promise<SampledRecord[]> =>
    budget.run(`error samples of ${service}`, [], () => reader.querySamples({ fromMs: window.fromMs, toMs: window.toMs, service, onlyErrors: true, limit: max * 4 }));
  let records = (await query(subject.service)).filter((record) => record.detectPoint === "server");
  const focused = subject.focus?.instance;
  if (focused !== undefined) records = [...records.filter((record) => record.instance === focused), ...records.filter((record) => record.instance !== focused)];
  const [firstCaller] = subject.callers;
  if (records.length === 0 && firstCaller !== undefined) {
    records = (await query(firstCaller)).filter((record) => record.detectPoint === "client" && record.peerService === subject.service);
  }
  const items: RcaEvidence[] = [];
  for (const record of records.slice(0, max)) {
    items.push({ kind: "sample", summary: describeSample(record), ref: await sampleRef(reader, budget, record) });
  }
  return items;
}

/**
 * A sample's link: its trace only when spans of it are stored (an access log carries the request's trace
 * id whether or not anything sampled the trace, and the trace route answers 404 for one with no spans),
 * else the log record itself.
 */
async function sampleRef(reader: StorageReader, budget: QueryBudget, record: SampledRecord): Promise<string> {
  const logRef = `/api/v1/logs?service=${encodeURIComponent(record.service)}&errors=true&from=${record.timeMs}&to=${record.timeMs + 1}`;
  if (record.traceId === "") return logRef;
  const spans = await budget.run(`spans of trace ${record.traceId}`, [], () => reader.getTrace(record.traceId));
  return spans.length > 0 ? `/api/v1/traces/${record.traceId}` : logRef;
}

export async function traceEvidence(reader: StorageReader, budget: QueryBudget, service: string, window: TimeWindow, max: number): Promise<RcaEvidence[]> {
  const traces = await budget.run(`error traces of ${service}`, [], () => reader.searchTraces({ fromMs: window.fromMs, toMs: window.toMs, service, onlyErrors: true, limit: max }));
  return traces.map((trace) => ({
    kind: "trace",
    summary: `trace ${trace.traceId}: ${trace.errorCount} error span(s) of ${trace.spanCount}, root ${trace.rootService} ${trace.rootName}, ${milliseconds(trace.durationMs)}`,
    ref: `/api/v1/traces/${trace.traceId}`,
  }));
}

function describeSample(record: SampledRecord): string {
  const flags = record.responseFlags === "" || record.responseFlags === "-" ? "" : ` ${record.responseFlags}`;
  const side = record.detectPoint === "server" ? `on ${record.instance} from ${record.peerService}` : `from ${record.service} (${record.instance}) to ${record.peerService}`;
  const trace = record.traceId === "" ? "" : `, trace ${record.traceId}`;
  return `${record.responseCode}${flags} ${record.endpoint} ${side}, ${milliseconds(record.latencyMs)}, at ${new Date(record.timeMs).toISOString()}${trace}`;
}
