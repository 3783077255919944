/** Small helpers for the queue conformance suite: a manual gate, timing tolerance, recording handlers. */
import type { Job, JobHandler } from "../../../core/queue/port.ts";

/** A latch handlers await, so a test decides when running jobs may finish. */
export class Gate {
  private release: () => void = () => {};
  readonly opened = new Promise<void>((resolve) => (this.release = resolve));

  open(): void {
    this.release();
  }
}

/** Clocks of node and Redis can disagree by a millisecond or two; timers may fire a bit early. */
export const TIMING_TOLERANCE_MS = 15;

/** Wraps a synchronous observer as a JobHandler, for handlers that only record what they saw. */
export function recordJob<T>(observe: (job: Job<T>) => unknown): JobHandler<T> {
  return (job) => {
    try {
      observe(job);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
}
