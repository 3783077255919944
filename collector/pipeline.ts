import { Counter, type Registry } from "prom-client";
import type { AccessLogEntry, MeshCall, ProxyIdentity } from "../core/model/access-log.ts";
import type { ServiceRef } from "../core/model/dimensions.ts";
import type { RejectCounter } from "../core/telemetry/rejects.ts";
import type { MinuteAdmission } from "./aggregate/minute-admission.ts";
import type { AccessLogIngest } from "./ingest.ts";
import { CallerPairing } from "./mesh/caller-pairing.ts";

/** Maps one entry logged by `proxy` to the calls it describes: appends them to `out`, returns how many. */
export type CallResolver = (proxy: ProxyIdentity, entry: AccessLogEntry, out: MeshCall[]) => number;

/** Something that can ask the pipeline to stop taking input (the aggregator, the flusher). */
export interface OverloadSource {
  isOverloaded(): boolean;
}

export interface CollectorPipelineOptions {
  resolve: CallResolver;
  /** The proxy's own service as the resolver knows it after a batch (learned for guessed identities); default `proxy.self`. */
  selfOf?: (proxy: ProxyIdentity) => ServiceRef;
  aggregator: OverloadSource & {
    add(call: MeshCall): boolean;
    addRelation(call: MeshCall): boolean;
    noteInstance(ref: ServiceRef, attributes: Record<string, string>, timeMs: number): void;
    withAdmission<T>(admission: MinuteAdmission, work: () => T): T;
  };
  sampler: { offer(call: MeshCall, raw: unknown): unknown };
  /** Further bounds to respect, typically the flusher's retry buffer. */
  backpressure?: readonly OverloadSource[];
  registry: Registry;
  rejects: RejectCounter;
  clock?: () => number;
  /** How long the two legs of a call may arrive apart and still be paired by request id. */
  pairingWindowMs?: number;
}

const REJECT_SOURCE = "pipeline";
/** How often waiting calls are checked against the pairing window when no batch arrives to do it. */
const EXPIRY_CHECK_MS = 1_000;
/** A live input's pairing window follows the clock: no record's time moves it. */
const CLOCK_ONLY = Number.NEGATIVE_INFINITY;

/**
 * Where decoded records meet aggregation: each entry is resolved to calls, which feed the minute aggregator
 * and the sampler. Input is refused whole (false) while any bound is reached, so receivers push back on
 * their clients instead of the collector growing without bound.
 */
export class CollectorPipeline implements AccessLogIngest {
  private readonly resolve: CallResolver;
  private readonly selfOf: (proxy: ProxyIdentity) => ServiceRef;
  private readonly aggregator: CollectorPipelineOptions["aggregator"];
  private readonly sampler: CollectorPipelineOptions["sampler"];
  private readonly overloadSources: readonly OverloadSource[];
  private readonly rejects: RejectCounter;
  private readonly clock: () => number;
  /** Reused for every batch: the resolver appends into it, so resolving allocates only the calls. */
  private readonly resolved: MeshCall[] = [];
  private readonly callsAccepted: Counter;
  private readonly batchesRefused: Counter;
  private readonly pairing: CallerPairing;
  private wholeEntries = 0;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(options: CollectorPipelineOptions) {
    this.resolve = options.resolve;
    this.selfOf = options.selfOf ?? ((proxy) => proxy.self);
    this.aggregator = options.aggregator;
    this.sampler = options.sampler;
    this.overloadSources = [options.aggregator, ...(options.backpressure ?? [])];
    this.rejects = options.rejects;
    this.clock = options.clock ?? Date.now;
    const aggregator = options.aggregator;
    this.pairing = new CallerPairing({
      registry: options.registry,
      windowMs: options.pairingWindowMs,
      onPaired: (call) => aggregator.addRelation(call),
    });
    this.callsAccepted = new Counter({
      name: "meshsight_pipeline_calls_total",
      help: "Calls (resolved from access-log entries or traces) taken into aggregation.",
      registers: [options.registry],
    });
    this.batchesRefused = new Counter({
      name: "meshsight_pipeline_refused_batches_total",
      help: "Batches refused because the aggregator or the flusher was over its bound; the receiver pushed back.",
      registers: [options.registry],
    });
  }

  isOverloaded(): boolean {
    for (const source of this.overloadSources) if (source.isOverloaded()) return true;
    return false;
  }

  ingest(proxy: ProxyIdentity, entries: readonly AccessLogEntry[]): boolean {
    if (this.refuseWhenOverloaded()) return false;
    this.pairing.rotateIfDue(this.clock());
    return this.aggregateEntries(proxy, entries, this.pairing, CLOCK_ONLY);
  }

  /**
   * Resolves and aggregates one batch, pairing its legs in `pairing`. A record stamped up to
   * `pairingFollowsRecordsUpToMs` moves the pairing window by its own time before it is paired (event time);
   * a stamp ahead of the clock (a skewed proxy's, or garbage) never does, so one bad stamp cannot hold the
   * window open for the rest of the input.
   */
  private aggregateEntries(proxy: ProxyIdentity, entries: readonly AccessLogEntry[], pairing: CallerPairing, pairingFollowsRecordsUpToMs: number): boolean {
    const out = this.resolved;
    let accepted = 0;
    // Calls accumulate for the whole batch and the array is emptied once at its end: emptying it per
    // entry would make V8 drop and reallocate its backing store for every entry.
    out.length = 0;
    for (const entry of entries) {
      const first = out.length;
      let count: number;
      try {
        count = Math.min(this.resolve(proxy, entry, out), out.length - first);
      } catch (error) {
        // One entry the resolver chokes on must not cost the rest of the batch (nor the process).
        out.length = first;
        this.rejects.reject(REJECT_SOURCE, "resolve-error", 1, (error as Error).message);
        continue;
      }
      let aggregated = 0;
      for (let i = first; i < first + count; i++) {
        const call = out[i];
        if (call === undefined) continue;
        if (call.timeMs <= pairingFollowsRecordsUpToMs) pairing.rotateIfDue(call.timeMs);
        if (this.aggregateMeshCall(call, pairing)) {
          this.sampler.offer(call, entry);
          aggregated++;
        }
      }
      accepted += aggregated;
      if (aggregated === count && count > 0) this.wholeEntries++;
    }
    out.length = 0;
    // After the batch: its entries may have told the resolver the proxy's real service.
    this.aggregator.noteInstance(this.selfOf(proxy), proxy.attributes, this.clock());
    this.callsAccepted.inc(accepted);
    return true;
  }

  /** Entries whose every call was aggregated, since the start (AccessLogIngest). */
  get aggregatedEntries(): number {
    return this.wholeEntries;
  }

  /**
   * This pipeline as one input whose minutes `admission` opens and closes (event time for a file or a
   * `meshsight ingest` run) instead of the wall clock. Its legs pair in a window of its own that moves with
   * the newest record time read, so what pairs depends on the records, never on how fast they are read;
   * `end` gives up the legs still waiting. A relation completed by pairing is judged by the input whose
   * batch completed it.
   */
  inputJudgedBy(admission: MinuteAdmission): AccessLogIngest {
    const aggregatedEntries = (): number => this.aggregatedEntries;
    const pairing = this.pairing.anotherInput();
    const aggregate = (proxy: ProxyIdentity, entries: readonly AccessLogEntry[]): boolean => this.aggregateEntries(proxy, entries, pairing, this.clock());
    return {
      ingest: (proxy, entries) => !this.refuseWhenOverloaded() && this.aggregator.withAdmission(admission, () => aggregate(proxy, entries)),
      get aggregatedEntries() {
        return aggregatedEntries();
      },
      end: () => pairing.close(),
    };
  }

  /** Gives up on calls waiting for their caller past the pairing window even while no input arrives. */
  startExpiringCallers(): void {
    this.expiryTimer ??= setInterval(() => this.pairing.rotateIfDue(this.clock()), EXPIRY_CHECK_MS).unref();
  }

  /** Gives up on every call still waiting for its caller, of every input (shutdown): counted unattributed. */
  stopExpiringCallers(): void {
    clearInterval(this.expiryTimer);
    this.expiryTimer = undefined;
    this.pairing.expireEveryWindow();
  }

  /**
   * A call resolved from an access log, with its caller completed by request-id pairing when nothing in the
   * entry named it (docs/architecture.md, "Call attribution"): a client-side leg is remembered for its
   * callee's leg; a server-side leg without caller takes one already seen, else waits (in-mesh) or stays the
   * outside caller of an edge proxy.
   */
  private aggregateMeshCall(call: MeshCall, pairing: CallerPairing): boolean {
    if (call.callerLookup !== "none") pairing.attribute(call);
    const isAdded = this.aggregator.add(call);
    if (isAdded && call.callerLookup === "mesh") pairing.await(call);
    else if (isAdded && call.callerLookup === "edge") pairing.countUnattributed("outside_caller");
    if (call.detectPoint === "client") pairing.noteClientLeg(call);
    return isAdded;
  }

  /** Calls already resolved elsewhere (derived from traces); same bounds, same aggregation. */
  ingestCalls(calls: readonly MeshCall[]): boolean {
    if (this.refuseWhenOverloaded()) return false;
    let accepted = 0;
    for (const call of calls) {
      if (this.aggregator.add(call)) {
        this.sampler.offer(call, call);
        accepted++;
      }
    }
    this.callsAccepted.inc(accepted);
    return true;
  }

  private refuseWhenOverloaded(): boolean {
    if (!this.isOverloaded()) return false;
    this.batchesRefused.inc();
    return true;
  }
}
