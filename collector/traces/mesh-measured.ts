import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import type { AccessLogEntry } from "../../core/model/access-log.ts";
import { UNKNOWN_SERVICE } from "../../core/model/dimensions.ts";
import type { StateStore } from "../../core/state/port.ts";
import { RateLimitedLog } from "../../core/telemetry/rate-limited-log.ts";
import { TwoGenerationCache } from "../endpoints/two-generation-cache.ts";

const MINUTE_MS = 60_000;
/** Marks written and not yet acknowledged by the store; beyond it new marks wait for the next entry of their minute. */
const MAX_MARKS_IN_FLIGHT = 10_000;

export interface MeshMeasuredOptions {
  /** Shared state (Redis for replicas, a file for one process): every collector reads and writes the same marks. */
  store: StateStore;
  /** How long a mark is kept: as long as span metrics of its minute and the next can still be aggregated. */
  markTtlMs: number;
  registry: Registry;
  logger: Logger;
  maxRemembered?: number;
}

/**
 * Which services a mesh sidecar measured, per minute, shared by every collector (docs/traces.md, "Span
 * metrics and double counting"). Whoever ingests a sidecar's access logs marks `<minute>/<service>` in the
 * state port; span metrics ask before counting a span, once its trace is decided. Marks are facts that never
 * turn false, so a found mark is remembered here; an absent one is asked again next time.
 */
export class MeshMeasuredServices {
  /** `<minute>/<service>` known to be marked: noted by this process or found in the store. */
  private readonly known: TwoGenerationCache<string, true>;
  /** `<minute>/<service>` this process wrote to the store (or is writing). */
  private readonly written: TwoGenerationCache<string, true>;
  private marksInFlight = 0;
  private readonly writes = new Set<Promise<void>>();
  private readonly warnings: RateLimitedLog;
  private readonly stateFailures: Counter<"operation">;

  constructor(private readonly options: MeshMeasuredOptions) {
    this.known = new TwoGenerationCache(options.maxRemembered ?? 50_000);
    this.written = new TwoGenerationCache(options.maxRemembered ?? 50_000);
    this.warnings = new RateLimitedLog(options.logger);
    this.stateFailures = new Counter({
      name: "meshsight_mesh_measured_state_failures_total",
      help: "Reads and writes of the shared mesh-measured marks that failed (span metrics then rely on what this process knows).",
      labelNames: ["operation"],
      registers: [options.registry],
    });
  }

  /** Marks `service` as measured by its sidecar in the minutes of `entries` (the access logs it sent). */
  noteAccessLogs(service: string, entries: readonly AccessLogEntry[]): void {
    let lastMinute = Number.NaN;
    for (const entry of entries) {
      const minute = Math.floor(entry.startTimeMs / MINUTE_MS);
      if (minute === lastMinute) continue;
      lastMinute = minute;
      this.note(service, minute * MINUTE_MS);
    }
  }

  /** Marks `service` as measured by a sidecar in the minute of `timeMs`. */
  note(service: string, timeMs: number): void {
    if (service === "" || service === UNKNOWN_SERVICE || !Number.isFinite(timeMs)) return;
    const key = markKey(service, Math.floor(timeMs / MINUTE_MS));
    if (this.written.get(key) === true) return;
    this.known.set(key, true);
    if (this.marksInFlight >= MAX_MARKS_IN_FLIGHT) return;
    this.written.set(key, true);
    this.marksInFlight++;
    const write = this.options.store
      .put(key, 1, { ttlMs: this.options.markTtlMs })
      .then(
        () => undefined,
        (error: unknown) => {
          // Not written: the next entry of this minute tries again. This process still knows it.
          this.written.delete(key);
          this.failed("write", error);
        },
      )
      .finally(() => {
        this.marksInFlight--;
        this.writes.delete(write);
      });
    this.writes.add(write);
  }

  /**
   * Whether a sidecar measured `service` in any minute from the one before `startMs` to the one of `endMs`:
   * a sidecar logs an inbound call a little before the application's server span starts, and an outbound
   * call a little after the client span starts, so a call near a minute's edge may be logged in the next
   * or previous minute. Answers from what lookUp() brought in.
   */
  isMeasured(service: string, startMs: number, endMs: number): boolean {
    const first = firstMinuteOf(startMs);
    const last = lastMinuteOf(first, endMs);
    for (let minute = first; minute <= last; minute++) if (this.known.get(markKey(service, minute)) === true) return true;
    return false;
  }

  /** Reads from the store the marks isMeasured() will need for these spans' services and times. */
  async lookUp(spans: ReadonlyArray<{ service: string; startMs: number; endMs: number }>): Promise<void> {
    const wanted = new Set<string>();
    for (const span of spans) {
      if (span.service === "" || span.service === UNKNOWN_SERVICE || this.isMeasured(span.service, span.startMs, span.endMs)) continue;
      const first = firstMinuteOf(span.startMs);
      const last = lastMinuteOf(first, span.endMs);
      for (let minute = first; minute <= last; minute++) wanted.add(markKey(span.service, minute));
    }
    await Promise.all(
      [...wanted].map(async (key) => {
        try {
          if ((await this.options.store.get(key)) !== undefined) this.known.set(key, true);
        } catch (error) {
          this.failed("read", error);
        }
      }),
    );
  }

  /** Waits for the marks being written (shutdown). */
  async drain(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  private failed(operation: "read" | "write", error: unknown): void {
    this.stateFailures.inc({ operation });
    this.warnings.warn(`mesh-measured-${operation}`, { component: "span-metrics", err: error }, `cannot ${operation} the shared mesh-measured marks`);
  }
}

function markKey(service: string, minute: number): string {
  return `${minute}/${service}`;
}

/** The minute before the one a span starts in: its call's inbound log may start a little before the span. */
function firstMinuteOf(startMs: number): number {
  return Math.floor(startMs / MINUTE_MS) - 1;
}

/** The minute a span ends in (at least the one it starts in), at most MAX_SPAN_MINUTES after it starts. */
function lastMinuteOf(firstMinute: number, endMs: number): number {
  return Math.max(firstMinute + 1, Math.min(Math.floor(endMs / MINUTE_MS), firstMinute + 1 + MAX_SPAN_MINUTES));
}

/** A span longer than this many minutes asks only its first ones: its call is logged when it starts. */
const MAX_SPAN_MINUTES = 2;
