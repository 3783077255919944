import { Gauge, type Registry } from "prom-client";
import type { MeshCall } from "../../core/model/access-log.ts";
import { UNKNOWN_SERVICE, type EntityRecord, type ServiceRef } from "../../core/model/dimensions.ts";
import { DEFAULT_APDEX_THRESHOLD_MS, RESOLUTION_MS, type MinuteMetrics } from "../../core/model/metrics.ts";
import type { RejectCounter } from "../../core/telemetry/rejects.ts";
import { EntitySet } from "./entity-set.ts";
import { EventTimeAdmission, WallClockAdmission, type MinuteAdmission } from "./minute-admission.ts";
import { InstanceRegistry } from "./instance-registry.ts";
import { MetricAccumulator } from "./metric-accumulator.ts";
import { MinuteBucket, newRelationCells, relationCellIndex, ServiceMinute } from "./minute-bucket.ts";

const MINUTE_MS = RESOLUTION_MS.minute;
const REJECT_SOURCE = "aggregate";
/** Above this share of the bound the aggregator asks for backpressure; the rest absorbs batches in flight. */
const OVERLOAD_HIGH_WATERMARK = 0.9;

export interface MinuteAggregatorOptions {
  registry: Registry;
  rejects: RejectCounter;
  /**
   * How long after its end a minute stays open for late records: by the clock for live input, by the newest
   * minute of the input for event-time input (eventTimeAdmission).
   */
  latenessMs?: number;
  /**
   * How far ahead of the local clock a record may be (proxy clock skew). Records further ahead are
   * rejected, not clamped: clamping would book them into a minute where they did not happen.
   */
  maxFutureMs?: number;
  /** Bound on accumulators (entity x minute) held at once; each holds a 2 KiB histogram. */
  maxOpenEntityMinutes?: number;
  /** Per service (destination of the calls); others use defaultApdexThresholdMs. */
  apdexThresholdsMs?: ReadonlyMap<string, number>;
  defaultApdexThresholdMs?: number;
  /** Instances whose attributes are remembered. */
  maxInstances?: number;
  clock?: () => number;
}

export interface DrainResult {
  metrics: MinuteMetrics[];
  entities: EntityRecord[];
}

const DEFAULTS = {
  latenessMs: 120_000,
  maxFutureMs: 120_000,
  maxOpenEntityMinutes: 100_000,
  maxInstances: 50_000,
};

/**
 * Aggregates MeshCalls in place per minute and entity (docs/architecture.md, "Metrics model"): service,
 * instance and endpoint from server-side calls only (for the destination), relations from every call.
 * Minutes close `latenessMs` after their end, by the clock for live input or by the data's own time for an
 * input run under an event-time admission (withAdmission); `drain` hands over what each minute gathered
 * since the last drain as MinuteMetrics rows (see drain).
 */
export class MinuteAggregator {
  private readonly rejects: RejectCounter;
  private readonly latenessMs: number;
  private readonly maxFutureMs: number;
  private readonly wallClock: WallClockAdmission;
  /** Judges the input being added now; the wall clock unless withAdmission says otherwise. */
  private admission: MinuteAdmission;
  private readonly maxOpenEntityMinutes: number;
  private readonly apdexThresholdsMs: ReadonlyMap<string, number>;
  private readonly defaultApdexThresholdMs: number;
  private readonly clock: () => number;
  private readonly instances: InstanceRegistry;
  private readonly minutes = new Map<number, MinuteBucket>();
  /**
   * Calls arrive mostly in time order, so the last minute used is remembered to skip the minute lookup and
   * the admission; it is forgotten when the admission changes, so each input's minutes pass its own.
   */
  private lastMinute: MinuteBucket | null = null;
  private openAccumulators = 0;
  private readonly openGauge: Gauge;

  constructor(options: MinuteAggregatorOptions) {
    this.rejects = options.rejects;
    this.latenessMs = nonNegative("latenessMs", options.latenessMs ?? DEFAULTS.latenessMs);
    this.maxFutureMs = nonNegative("maxFutureMs", options.maxFutureMs ?? DEFAULTS.maxFutureMs);
    this.maxOpenEntityMinutes = nonNegative("maxOpenEntityMinutes", options.maxOpenEntityMinutes ?? DEFAULTS.maxOpenEntityMinutes);
    if (this.maxOpenEntityMinutes < 1) throw new RangeError("MinuteAggregator: maxOpenEntityMinutes must be >= 1");
    this.apdexThresholdsMs = options.apdexThresholdsMs ?? new Map();
    this.defaultApdexThresholdMs = nonNegative("defaultApdexThresholdMs", options.defaultApdexThresholdMs ?? DEFAULT_APDEX_THRESHOLD_MS);
    this.instances = new InstanceRegistry(options.maxInstances ?? DEFAULTS.maxInstances);
    this.clock = options.clock ?? Date.now;
    this.wallClock = new WallClockAdmission({ clock: this.clock, latenessMs: this.latenessMs, maxFutureMs: this.maxFutureMs });
    this.admission = this.wallClock;
    this.openGauge = new Gauge({
      name: "meshsight_aggregate_open_entity_minutes",
      help: "Entity-minutes (accumulators) held in memory by the minute aggregator.",
      registers: [options.registry],
      // Read at scrape time so the hot path never touches the gauge.
      collect: () => this.openGauge.set(this.openAccumulators),
    });
  }

  /** Entity-minutes held now. */
  get openEntityMinutes(): number {
    return this.openAccumulators;
  }

  /** True when callers should stop handing over records until the next drain. */
  isOverloaded(): boolean {
    return this.openAccumulators >= this.maxOpenEntityMinutes * OVERLOAD_HIGH_WATERMARK;
  }

  /**
   * Judges records by the data's own time (files, `meshsight ingest`): one per input, with this aggregator's
   * lateness as the out-of-order tolerance and records older than `retentionMs` expired.
   */
  eventTimeAdmission(retentionMs: number): EventTimeAdmission {
    return new EventTimeAdmission({ clock: this.clock, latenessMs: this.latenessMs, maxFutureMs: this.maxFutureMs, retentionMs });
  }

  /** Runs synchronous `work` (adding one input's batch) with its records judged by `admission`. */
  withAdmission<T>(admission: MinuteAdmission, work: () => T): T {
    const outer = this.admission;
    this.useAdmission(admission);
    try {
      return work();
    } finally {
      this.useAdmission(outer);
    }
  }

  private useAdmission(admission: MinuteAdmission): void {
    if (this.admission === admission) return;
    this.admission = admission;
    this.lastMinute = null;
  }

  /**
   * Adds one call; false (and a counted reject) when it is late, too far ahead, malformed or over the bound.
   * A server-side call whose in-mesh caller is still unknown (`callerLookup` "mesh") counts for the callee
   * only: its relation waits for the caller to be found (addRelation) and is never drawn from `UNKNOWN`.
   */
  add(call: MeshCall): boolean {
    const minute = this.minuteOfValidCall(call);
    if (minute === null) return false;
    if (call.detectPoint === "server") this.addServerSide(minute, call.destination.service || UNKNOWN_SERVICE, call);
    return call.callerLookup === "mesh" || this.addRelationIn(minute, call);
  }

  /** Adds the relation of a call whose service side was added before, once its caller is known. */
  addRelation(call: MeshCall): boolean {
    const minute = this.minuteOfValidCall(call);
    return minute !== null && this.addRelationIn(minute, call);
  }

  private minuteOfValidCall(call: MeshCall): MinuteBucket | null {
    const latencyMs = call.latencyMs;
    if (!(latencyMs >= 0 && latencyMs !== Number.POSITIVE_INFINITY && call.bytesIn >= 0 && call.bytesOut >= 0)) {
      this.rejects.reject(REJECT_SOURCE, "invalid-values", 1, `latencyMs=${latencyMs} bytesIn=${call.bytesIn} bytesOut=${call.bytesOut}`);
      return null;
    }
    if (relationCellIndex(call.detectPoint, call.component) < 0) {
      this.rejects.reject(REJECT_SOURCE, "invalid-dimension", 1, `detectPoint=${String(call.detectPoint)} component=${String(call.component)}`);
      return null;
    }
    return this.minuteFor(call.timeMs);
  }

  private addRelationIn(minute: MinuteBucket, call: MeshCall): boolean {
    const destination = call.destination.service || UNKNOWN_SERVICE;
    const sourceMinute = this.serviceMinute(minute, call.source.service || UNKNOWN_SERVICE);
    if (sourceMinute === null) return false;
    let cells = sourceMinute.relationsTo.get(destination);
    if (cells === undefined) {
      cells = newRelationCells();
      sourceMinute.relationsTo.set(destination, cells);
    }
    const cellIndex = relationCellIndex(call.detectPoint, call.component);
    const relation = cells[cellIndex] ?? this.newAccumulator(minute, this.apdexThresholdOf(destination));
    if (relation === null) return false;
    cells[cellIndex] = relation;
    relation.add(call);
    return true;
  }

  /** Remembers the instance a proxy runs as, with its attributes, for the instance entity rows. */
  noteInstance(ref: ServiceRef, attributes: Record<string, string>, timeMs: number): void {
    this.instances.note(ref.service, ref.instance, attributes, timeMs);
  }

  /**
   * Hands over everything aggregated since the last drain, as rows with sparse histograms, plus the
   * entities seen and the instances noted since then.
   *
   * Open minutes are handed over too, as partial sums: storage adds rows of the same key and minute, so
   * users see the current minute within one flush interval instead of after the lateness window. A minute
   * still open keeps taking late records (they start a fresh partial sum); for live input, a minute closed
   * at `nowMs` (ended more than latenessMs ago), or every minute with `force`, is retired: its records are
   * late. Event-time input reopens a minute as its admission allows, adding another partial sum.
   */
  drain(nowMs: number, force = false): DrainResult {
    const metrics: MinuteMetrics[] = [];
    const entities = new EntitySet();
    for (const [startMs, minute] of this.minutes) {
      minute.emit(metrics, entities, this.instances);
      this.minutes.delete(startMs);
      this.openAccumulators -= minute.accumulators;
      this.wallClock.noteDrained(startMs, nowMs, force);
    }
    this.lastMinute = null;
    for (const noted of this.instances.drainSeen()) {
      entities.add("instance", noted.service, noted.instance, noted.lastSeenMs, noted.attributes);
      entities.add("service", noted.service, "", noted.lastSeenMs, {});
    }
    return { metrics, entities: entities.toArray() };
  }

  private addServerSide(minute: MinuteBucket, destination: string, call: MeshCall): void {
    const serviceMinute = this.serviceMinute(minute, destination);
    if (serviceMinute === null) return;
    const server = serviceMinute.server ?? this.newAccumulator(minute, serviceMinute.apdexThresholdMs);
    if (server === null) return;
    serviceMinute.server = server;
    server.add(call);
    const instance = call.destination.instance;
    if (instance !== "") this.addTo(minute, serviceMinute, serviceMinute.instances, instance, call);
    if (call.endpoint !== "") this.addTo(minute, serviceMinute, serviceMinute.endpoints, call.endpoint, call);
  }

  private addTo(minute: MinuteBucket, serviceMinute: ServiceMinute, map: Map<string, MetricAccumulator>, name: string, call: MeshCall): void {
    let accumulator: MetricAccumulator | null | undefined = map.get(name);
    if (accumulator === undefined) {
      accumulator = this.newAccumulator(minute, serviceMinute.apdexThresholdMs);
      if (accumulator === null) return;
      map.set(name, accumulator);
    }
    accumulator.add(call);
  }

  private serviceMinute(minute: MinuteBucket, service: string): ServiceMinute | null {
    let serviceMinute = minute.services.get(service);
    if (serviceMinute === undefined) {
      // Every ServiceMinute gets an accumulator right away, so bounding accumulators bounds these too.
      if (this.isFull()) return null;
      serviceMinute = new ServiceMinute(this.apdexThresholdOf(service));
      minute.services.set(service, serviceMinute);
    }
    return serviceMinute;
  }

  private newAccumulator(minute: MinuteBucket, apdexThresholdMs: number): MetricAccumulator | null {
    if (this.isFull()) return null;
    minute.accumulators++;
    this.openAccumulators++;
    return new MetricAccumulator(apdexThresholdMs);
  }

  private isFull(): boolean {
    if (this.openAccumulators < this.maxOpenEntityMinutes) return false;
    this.rejects.reject(REJECT_SOURCE, "overload", 1, `${this.openAccumulators} open entity-minutes`);
    return true;
  }

  private apdexThresholdOf(service: string): number {
    return this.apdexThresholdsMs.get(service) ?? this.defaultApdexThresholdMs;
  }

  private minuteFor(timeMs: number): MinuteBucket | null {
    const startMs = timeMs - (timeMs % MINUTE_MS);
    const last = this.lastMinute;
    if (last !== null && last.startMs === startMs) return last;
    if (!(timeMs >= 0 && Number.isSafeInteger(startMs))) {
      this.rejects.reject(REJECT_SOURCE, "invalid-time", 1, `timeMs=${timeMs}`);
      return null;
    }
    // Asked when the minute changes, not per record: the clock (or the watermark) is read once per run of a minute.
    const refusal = this.admission.refusal(startMs, timeMs);
    if (refusal !== null) {
      // Details stay cheap to build: a replaying proxy can send floods of late records.
      this.rejects.reject(REJECT_SOURCE, refusal, 1, `timeMs=${timeMs} referenceMs=${this.admission.referenceMs}`);
      return null;
    }
    let minute = this.minutes.get(startMs);
    if (minute === undefined) {
      minute = new MinuteBucket(startMs);
      this.minutes.set(startMs, minute);
    }
    this.lastMinute = minute;
    return minute;
  }
}

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new RangeError(`MinuteAggregator: ${name} must be a number >= 0, got ${value}`);
  return value;
}
