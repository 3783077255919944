import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Component } from "../core/lifecycle.ts";
import { WriteSpellTracker } from "../core/write-spells.ts";

/** How often the collector asks whether a flood of rows has ended. */
const CHECK_MS = 60_000;
/** Rows drained in a check interval for it to count as a flood: ~3,300 series and entity rows per 10 s flush. */
const MIN_SPELL_ROWS = 20_000;

/**
 * Gives the JavaScript heap back after a flood of entities. V8 collects only when allocating asks it to,
 * and a collector's old generation may grow to 3x what survived (heap-growth.ts): after a flood the heap
 * it grew stayed, mostly garbage, for as long as the process idled (bench/README.md, "Entity flood"). Once
 * a minute's drained rows drop under a quarter of the busiest minute since the last release
 * (core/write-spells.ts), one full collection returns it to the system.
 */
export class HeapRelease implements Component {
  readonly name = "collector.heap-release";
  private readonly spells = new WriteSpellTracker(MIN_SPELL_ROWS);
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly collectGarbage: () => void = fullGarbageCollection()) {}

  /** The flusher drained `rows` (minute rows and entities). */
  noteDrained(rows: number): void {
    this.spells.noteWritten(rows);
  }

  /** One check; the timer calls it every minute. */
  check(): void {
    if (this.spells.spellEnded()) this.collectGarbage();
  }

  start(): Promise<void> {
    this.timer ??= setInterval(() => this.check(), CHECK_MS).unref();
    return Promise.resolve();
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    return Promise.resolve();
  }
}

/**
 * V8's own full collection, which Node offers only under `--expose-gc`: the flag set now reaches contexts
 * made after it, so a fresh one hands over `gc` without the process starting with it. Made on first use.
 */
export function fullGarbageCollection(): () => void {
  let collect: (() => void) | undefined;
  return () => {
    if (collect === undefined) {
      setFlagsFromString("--expose-gc");
      collect = runInNewContext("gc") as () => void;
    }
    collect();
  };
}
