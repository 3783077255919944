import type { AccessLogEntry, ProxyIdentity } from "../../../core/model/access-log.ts";
import { addReject, type RejectCounts } from "../../../core/telemetry/rejects.ts";
import type { AccessLogIngest } from "../../ingest.ts";
import type { AccessLogLineDecoder, RejectLedger } from "./line-decoder.ts";

/**
 * What became of the lines one client sent (a `POST /api/v1/logs` body, a `meshsight ingest` run): every
 * non-blank line is either accepted, meaning its calls went into the minute aggregates, or rejected with its
 * reason, wherever that was decided (docs/architecture.md, "Conventions": bad input never silently
 * vanishes). `reasons` holds exactly what this client added to `meshsight_rejected_total`, keyed
 * `source/reason` as the metric labels it.
 */
export interface IngestOutcome {
  lines: number;
  accepted: number;
  rejected: number;
  reasons: Record<string, number>;
}

/**
 * Stands between a receiver and the pipeline and keeps the books: the rejects each batch caused downstream
 * (an entry no call can be made of, a call too late for its minute, ...) are learned from the reject ledger
 * while the pipeline works on the batch. A sidecar's line describes one call; a gateway's describes two: it
 * is accepted when both were aggregated (the pipeline counts such lines), and each refused call counts in
 * `reasons`, as in the metric, so a line with both refused counts once among the lines and twice there.
 */
export class IngestAccount implements AccessLogIngest {
  private acceptedEntries = 0;
  private readonly downstreamRejects: RejectCounts = new Map();

  constructor(
    private readonly pipeline: AccessLogIngest,
    private readonly ledger: RejectLedger,
  ) {}

  ingest(proxy: ProxyIdentity, entries: readonly AccessLogEntry[]): boolean {
    const aggregatedBefore = this.pipeline.aggregatedEntries;
    const { result: isTaken, rejects } = this.ledger.during(() => this.pipeline.ingest(proxy, entries));
    let refused = 0;
    for (const [key, count] of rejects) {
      addReject(this.downstreamRejects, key, count);
      refused += count;
    }
    if (!isTaken) return false;
    // An ingest that cannot tell what it aggregated (a bare receiver in tests) is taken at one call per line.
    const aggregatedAfter = this.pipeline.aggregatedEntries;
    this.acceptedEntries += aggregatedBefore === undefined || aggregatedAfter === undefined ? Math.max(0, entries.length - refused) : aggregatedAfter - aggregatedBefore;
    return true;
  }

  get aggregatedEntries(): number {
    return this.acceptedEntries;
  }

  /** Lines and rejects of `decoder` (what could not be parsed) with what the pipeline made of the rest. */
  outcome(decoder: AccessLogLineDecoder): IngestOutcome {
    const reasons: RejectCounts = new Map(this.downstreamRejects);
    decoder.tally.addTo(reasons);
    const sorted = [...reasons].sort(([a], [b]) => a.localeCompare(b));
    return {
      lines: decoder.linesSeen,
      accepted: this.acceptedEntries,
      rejected: sorted.reduce((sum, [, count]) => sum + count, 0),
      reasons: Object.fromEntries(sorted),
    };
  }
}
