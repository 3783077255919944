import { Counter, Gauge, type Registry } from "prom-client";
import type { MeshCall } from "../../core/model/access-log.ts";
import type { ServiceRef } from "../../core/model/dimensions.ts";
import { RequestIdIndex } from "./request-id-index.ts";

/** Why a server-side leg keeps an unknown caller (the label of meshsight_unattributed_calls_total). */
export type UnattributedReason =
  /** An in-mesh leg with nothing that names its caller and no request id to pair by. */
  | "no_request_id"
  /** An in-mesh leg whose caller's client-side leg did not arrive within the pairing window. */
  | "no_client_leg"
  /** The pairing buffer was full: the leg could not wait for its caller. */
  | "pairing_full"
  /** An edge proxy's (ingress gateway's) caller from outside the mesh: the one `UNKNOWN` node. */
  | "outside_caller";

const REASONS: readonly UnattributedReason[] = ["no_request_id", "no_client_leg", "pairing_full", "outside_caller"];

/** Two callers logged the same request id towards the same service: the id names neither. */
const AMBIGUOUS = Symbol("ambiguous caller");

type Caller = ServiceRef | typeof AMBIGUOUS;

interface Generation {
  /** callee service -> request id -> the caller whose client-side leg logged it. */
  callers: RequestIdIndex<ServiceRef, Caller>;
  /** callee service -> request id -> server-side legs waiting for that caller. */
  waiting: RequestIdIndex<MeshCall, MeshCall[]>;
  /** Client-side legs remembered (a request id logged twice towards one callee counts twice). */
  callerCount: number;
  waitingCount: number;
}

export interface CallerPairingOptions {
  registry: Registry;
  /** Receives each waiting leg once its caller is known: its relation is still to be counted. */
  onPaired: (call: MeshCall) => void;
  /** How long one leg waits for the other; legs are kept between half of it and all of it. */
  windowMs?: number;
  /**
   * Client-side legs remembered per half window; past it the window is cut short (counted). The windows of
   * one pairing (anotherInput) hold at most two half windows' worth together.
   */
  maxCallersPerGeneration?: number;
  /** Server-side legs waiting at once, in all the windows of one pairing; past it a leg is counted unattributed at once. */
  maxWaiting?: number;
}

const DEFAULTS = { windowMs: 10_000, maxCallersPerGeneration: 200_000, maxWaiting: 100_000 };

/** What the windows of one pairing share: its metrics, its bounds and the legs they hold together. */
class SharedPairing {
  readonly onPaired: (call: MeshCall) => void;
  readonly halfWindowMs: number;
  readonly maxCallersPerGeneration: number;
  readonly maxWaiting: number;
  readonly unattributed: Counter<"reason">;
  readonly pairedByRequestId: Counter;
  readonly earlyRotations: Counter;
  /** Windows whose input is still open, so shutdown can give up their waiting legs. */
  readonly windows = new Set<CallerPairing>();
  callers = 0;
  waiting = 0;

  constructor(options: CallerPairingOptions) {
    this.onPaired = options.onPaired;
    this.halfWindowMs = (options.windowMs ?? DEFAULTS.windowMs) / 2;
    this.maxCallersPerGeneration = options.maxCallersPerGeneration ?? DEFAULTS.maxCallersPerGeneration;
    this.maxWaiting = options.maxWaiting ?? DEFAULTS.maxWaiting;
    const registers = [options.registry];
    this.unattributed = new Counter({
      name: "meshsight_unattributed_calls_total",
      help: "Server-side calls whose caller stayed unknown, by reason; in-mesh ones count for the callee but make no relation.",
      labelNames: ["reason"],
      registers,
    });
    for (const reason of REASONS) this.unattributed.inc({ reason }, 0);
    this.pairedByRequestId = new Counter({
      name: "meshsight_calls_attributed_by_request_id_total",
      help: "Server-side calls whose caller was found by pairing with the caller's own client-side leg.",
      registers,
    });
    this.earlyRotations = new Counter({
      name: "meshsight_caller_pairing_early_rotations_total",
      help: "Times the request-id pairing index was full and dropped its older half before the window ended.",
      registers,
    });
    const held: Gauge<"kind"> = new Gauge({
      name: "meshsight_caller_pairing_entries",
      help: "Legs held for request-id pairing: client-side callers remembered and server-side legs waiting.",
      labelNames: ["kind"],
      registers,
      // Read at scrape time so the hot path never touches the gauge.
      collect: () => {
        held.set({ kind: "callers" }, this.callers);
        held.set({ kind: "waiting" }, this.waiting);
      },
    });
  }
}

/**
 * Pairs the two legs of one call by request id (docs/architecture.md, "Call attribution"). Both sidecars of
 * a call log the same `x-request-id` (`request.request_id` in ALS, `%REQ(X-REQUEST-ID)%` in text logs), but
 * the id travels with the whole request through every hop, so a leg is keyed by (callee service, request id):
 * the caller's client-side leg says who called that service for that request.
 *
 * Either leg may arrive first (the callee's leg usually ends first; streams batch independently): a client
 * leg is remembered for the callee's leg to come, and a server leg no other source named waits for the
 * client leg. Memory is two generations of maps swapped every half window, so a leg waits between half the
 * window and all of it, with no per-entry timers; each generation is capped, and a full one cuts the
 * window short rather than grow.
 *
 * One instance is one window, on one timeline: the clock for live streams, the records' own time for an
 * input read by event time (anotherInput), whose legs pair only with legs of the same input. The windows
 * of one pairing share its metrics and its bounds.
 */
export class CallerPairing {
  private readonly shared: SharedPairing;
  private current = newGeneration();
  private previous = newGeneration();
  private rotatedAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: CallerPairingOptions | SharedPairing) {
    this.shared = options instanceof SharedPairing ? options : new SharedPairing(options);
    this.shared.windows.add(this);
  }

  /** A window of its own for one more input (a file, a `meshsight ingest` run), sharing metrics and bounds; close it when the input ends. */
  anotherInput(): CallerPairing {
    return new CallerPairing(this.shared);
  }

  /**
   * Swaps generations once half the window has passed since the last swap; legs older than the window are
   * given up. `nowMs` is the window's time: the clock, or the newest record time of an event-time input
   * (an older record never moves it back).
   */
  rotateIfDue(nowMs: number): void {
    if (nowMs - this.rotatedAtMs < this.shared.halfWindowMs) return;
    this.rotatedAtMs = nowMs;
    this.rotate();
  }

  /** Gives up every waiting leg of this window (end of input): their callers can no longer arrive. */
  expireAll(): void {
    this.rotate();
    this.rotate();
  }

  /** This window's input ended: its waiting legs are given up (counted) and its memory released. */
  close(): void {
    this.expireAll();
    this.shared.windows.delete(this);
  }

  /** Gives up the waiting legs of every window of this pairing (shutdown). */
  expireEveryWindow(): void {
    for (const window of this.shared.windows) window.expireAll();
  }

  /** Remembers a client-side leg's caller, and completes the callee's legs already waiting for it. */
  noteClientLeg(call: MeshCall): void {
    const requestId = call.requestId;
    if (requestId === "") return;
    const callee = call.destination.service;
    this.release(this.current, callee, requestId, call.source);
    this.release(this.previous, callee, requestId, call.source);
    const { shared } = this;
    if (this.current.callerCount >= shared.maxCallersPerGeneration || shared.callers >= 2 * shared.maxCallersPerGeneration) {
      shared.earlyRotations.inc();
      this.rotate();
    }
    this.current.callers.add(callee, requestId, call.source);
    this.current.callerCount++;
    shared.callers++;
  }

  /** Names the caller of a server-side leg from a client-side leg already seen; true when it did. */
  attribute(call: MeshCall): boolean {
    const requestId = call.requestId;
    if (requestId === "") return false;
    const callee = call.destination.service;
    const caller = this.current.callers.of(callee)?.get(requestId) ?? this.previous.callers.of(callee)?.get(requestId);
    if (caller === undefined || caller === AMBIGUOUS) return false;
    call.source = caller;
    call.callerLookup = "none";
    this.shared.pairedByRequestId.inc();
    return true;
  }

  /** An in-mesh server-side leg with no caller yet: it waits for its caller's leg, or is counted unattributed. */
  await(call: MeshCall): void {
    const requestId = call.requestId;
    if (requestId === "") return this.countUnattributed("no_request_id");
    if (this.shared.waiting >= this.shared.maxWaiting) return this.countUnattributed("pairing_full");
    this.current.waiting.add(call.destination.service, requestId, call);
    this.current.waitingCount++;
    this.shared.waiting++;
  }

  countUnattributed(reason: UnattributedReason, count = 1): void {
    this.shared.unattributed.inc({ reason }, count);
  }

  private release(generation: Generation, callee: string, requestId: string, caller: ServiceRef): void {
    if (generation.waitingCount === 0) return;
    const byRequest = generation.waiting.of(callee);
    const legs = byRequest?.get(requestId);
    if (byRequest === undefined || legs === undefined) return;
    byRequest.delete(requestId);
    generation.waitingCount -= legs.length;
    this.shared.waiting -= legs.length;
    for (const leg of legs) {
      leg.source = caller;
      leg.callerLookup = "none";
      this.shared.onPaired(leg);
    }
    this.shared.pairedByRequestId.inc(legs.length);
  }

  private rotate(): void {
    const given = this.previous;
    if (given.waitingCount > 0) this.countUnattributed("no_client_leg", given.waitingCount);
    this.shared.callers -= given.callerCount;
    this.shared.waiting -= given.waitingCount;
    this.previous = this.current;
    this.current = newGeneration();
  }
}

function newGeneration(): Generation {
  return { callers: new RequestIdIndex(namedCaller), waiting: new RequestIdIndex(waitingLegs), callerCount: 0, waitingCount: 0 };
}

/** A request id's caller, or AMBIGUOUS once two client legs of different services logged it. */
function namedCaller(known: Caller | undefined, source: ServiceRef): Caller {
  if (known === undefined) return source;
  return known !== AMBIGUOUS && known.service !== source.service ? AMBIGUOUS : known;
}

function waitingLegs(legs: MeshCall[] | undefined, call: MeshCall): MeshCall[] {
  if (legs === undefined) return [call];
  legs.push(call);
  return legs;
}
