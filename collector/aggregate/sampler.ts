import type { Registry } from "prom-client";
import { scrapedCounter } from "../../core/telemetry/scraped-counter.ts";
import type { MeshCall } from "../../core/model/access-log.ts";
import type { SampledRecord, SampleReason } from "../../core/model/sample.ts";
import { boundedJson } from "./bounded-json.ts";

export interface SamplerOptions {
  registry: Registry;
  /** Calls at least this slow are kept like errors. */
  slowThresholdMs?: number;
  /** Errors and slow calls kept per service per second (token bucket refill rate). */
  perServiceRatePerSecond?: number;
  /** Bucket size: how many can be kept in a burst. Defaults to one second's worth. */
  perServiceBurst?: number;
  /** Share of the other calls kept, 0..1. */
  uniformRate?: number;
  /** Records held until drained; beyond, new records are skipped (and counted). */
  maxBuffered?: number;
  /** Bound on each record's `raw` JSON, in characters. */
  maxRawChars?: number;
  /** Services with a token bucket at once; beyond, the oldest bucket is dropped (it restarts full). */
  maxServices?: number;
  clock?: () => number;
  random?: () => number;
}

interface TokenBucket {
  tokens: number;
  refilledAtMs: number;
}

const SAMPLE_REASONS: readonly SampleReason[] = ["error", "slow", "uniform"];
const SKIP_REASONS = ["rate_limited", "buffer_full"] as const;
type SkipReason = (typeof SKIP_REASONS)[number];

const DEFAULTS = {
  slowThresholdMs: 1000,
  perServiceRatePerSecond: 10,
  uniformRate: 0.01,
  maxBuffered: 10_000,
  maxRawChars: 4096,
  maxServices: 10_000,
};

/**
 * Keeps raw records as evidence (docs/architecture.md, "Metrics model"): every error and slow call up to a
 * per-service rate, plus a small uniform sample of the rest. The common case (a fast success not picked
 * by the uniform sample) costs one comparison and one random number; serialization happens only for kept
 * records.
 */
export class Sampler {
  private readonly slowThresholdMs: number;
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly uniformRate: number;
  private readonly maxBuffered: number;
  private readonly maxRawChars: number;
  private readonly maxServices: number;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly buckets = new Map<string, TokenBucket>();
  private buffer: SampledRecord[] = [];
  /** Plain counts on the hot path (an error-heavy log is rate-limited per call); the metrics read them at scrape time. */
  private readonly kept: Record<SampleReason, number>;
  private readonly skipped: Record<SkipReason, number>;

  constructor(options: SamplerOptions) {
    this.slowThresholdMs = options.slowThresholdMs ?? DEFAULTS.slowThresholdMs;
    const ratePerSecond = options.perServiceRatePerSecond ?? DEFAULTS.perServiceRatePerSecond;
    if (!(ratePerSecond >= 0)) throw new RangeError(`Sampler: perServiceRatePerSecond must be >= 0, got ${ratePerSecond}`);
    this.ratePerMs = ratePerSecond / 1000;
    this.burst = options.perServiceBurst ?? Math.max(1, ratePerSecond);
    this.uniformRate = options.uniformRate ?? DEFAULTS.uniformRate;
    if (!(this.uniformRate >= 0 && this.uniformRate <= 1)) throw new RangeError(`Sampler: uniformRate must be in [0, 1], got ${this.uniformRate}`);
    this.maxBuffered = options.maxBuffered ?? DEFAULTS.maxBuffered;
    this.maxRawChars = options.maxRawChars ?? DEFAULTS.maxRawChars;
    this.maxServices = options.maxServices ?? DEFAULTS.maxServices;
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.kept = scrapedCounter({
      name: "meshsight_samples_kept_total",
      help: "Raw records kept as samples, by why they were kept.",
      labelName: "reason",
      values: SAMPLE_REASONS,
      registry: options.registry,
    });
    this.skipped = scrapedCounter({
      name: "meshsight_samples_skipped_total",
      help: "Errors and slow calls not kept because of the per-service rate limit, or any record not kept because the buffer was full.",
      labelName: "reason",
      values: SKIP_REASONS,
      registry: options.registry,
    });
  }

  get buffered(): number {
    return this.buffer.length;
  }

  /** Considers one call; `raw` is the record as received (serialized only if kept). Returns why it was kept, or null. */
  offer(call: MeshCall, raw: unknown): SampleReason | null {
    let reason: SampleReason | null = null;
    if (call.isError || call.latencyMs >= this.slowThresholdMs) {
      const candidate: SampleReason = call.isError ? "error" : "slow";
      if (this.takeToken(recordService(call))) reason = candidate;
      else this.skipped.rate_limited++;
    } else if (this.uniformRate > 0 && this.random() < this.uniformRate) {
      reason = "uniform";
    }
    if (reason === null) return null;
    if (this.buffer.length >= this.maxBuffered) {
      this.skipped.buffer_full++;
      return null;
    }
    this.buffer.push(this.toRecord(call, reason, raw));
    this.kept[reason]++;
    return reason;
  }

  /** Hands over the kept records and empties the buffer. */
  drain(): SampledRecord[] {
    const drained = this.buffer;
    this.buffer = [];
    return drained;
  }

  private takeToken(service: string): boolean {
    const nowMs = this.clock();
    let bucket = this.buckets.get(service);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxServices) {
        const oldest = this.buckets.keys().next();
        if (oldest.done !== true) this.buckets.delete(oldest.value);
      }
      bucket = { tokens: this.burst, refilledAtMs: nowMs };
      this.buckets.set(service, bucket);
    } else if (nowMs > bucket.refilledAtMs) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + (nowMs - bucket.refilledAtMs) * this.ratePerMs);
      bucket.refilledAtMs = nowMs;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private toRecord(call: MeshCall, reason: SampleReason, raw: unknown): SampledRecord {
    const isServerSide = call.detectPoint === "server";
    const self = isServerSide ? call.destination : call.source;
    return {
      timeMs: call.timeMs,
      service: self.service,
      instance: self.instance,
      endpoint: call.endpoint,
      detectPoint: call.detectPoint,
      peerService: isServerSide ? call.source.service : call.destination.service,
      responseCode: call.responseCode,
      responseFlags: call.responseFlags,
      isError: call.isError,
      latencyMs: call.latencyMs,
      reason,
      requestId: call.requestId,
      traceId: call.traceId,
      raw: boundedJson(raw, this.maxRawChars),
    };
  }
}

/** The service a record belongs to: the callee for a server-side record, the caller for a client-side one. */
function recordService(call: MeshCall): string {
  return call.detectPoint === "server" ? call.destination.service : call.source.service;
}
