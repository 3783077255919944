import pino from "pino";
import { Registry, type Counter } from "prom-client";
import type { AccessLogEntry, ProxyIdentity } from "../../../../core/model/access-log.ts";
import { RejectCounter } from "../../../../core/telemetry/rejects.ts";
import type { AccessLogIngest } from "../../../../collector/ingest.ts";

/** An ingest that keeps what it takes and refuses while `isRefusing` (the pipeline's backpressure signal). */
export class RecordingIngest implements AccessLogIngest {
  readonly batches: Array<{ proxy: ProxyIdentity; entries: readonly AccessLogEntry[] }> = [];
  isRefusing = false;
  refusals = 0;
  /** Times the input was told it is over. */
  ends = 0;

  ingest(proxy: ProxyIdentity, entries: readonly AccessLogEntry[]): boolean {
    if (this.isRefusing) {
      this.refusals++;
      return false;
    }
    this.batches.push({ proxy, entries });
    return true;
  }

  end(): void {
    this.ends++;
  }

  get entries(): AccessLogEntry[] {
    return this.batches.flatMap((batch) => batch.entries);
  }
}

/** The real reject counter on its own registry, plus a reader of its per-reason counts. */
export function rejectCounter(): { rejects: RejectCounter; counts: () => Promise<Record<string, number>> } {
  const registry = new Registry();
  const rejects = new RejectCounter(registry, pino({ level: "silent" }));
  const counts = async (): Promise<Record<string, number>> => {
    const metric = await (registry.getSingleMetric("meshsight_rejected_total") as Counter | undefined)?.get();
    const result: Record<string, number> = {};
    for (const value of metric?.values ?? []) result[`${String(value.labels.source)}/${String(value.labels.reason)}`] = value.value;
    return result;
  };
  return { rejects, counts };
}

/** Real-looking Istio lines (current format), numbered through the request id and path. */
export function istioLine(index: number, cluster = "inbound|9080||"): string {
  return `[2024-05-01T10:00:${String(index % 60).padStart(2, "0")}.123Z] "GET /reviews/${index} HTTP/1.1" 200 - via_upstream - "-" 0 295 7 6 "-" "curl/8.5.0" "req-${index}" "reviews:9080" "10.44.1.27:9080" ${cluster} 127.0.0.6:41854 10.44.1.27:9080 10.44.1.23:37652 outbound_.9080_._.reviews.default.svc.cluster.local default`;
}
