import type { AlertState } from "./alert-state-file.ts";

/** The two halves of the alert state, saved separately: rounds change alerts, the silence API silences. */
export type AlertStatePart = "alerts" | "silences";

/**
 * Where the analyzer keeps alerts and silences between rounds and restarts: a local file for one process
 * (AlertStateFile), Redis when several replicas take turns running rounds (RedisAlertStateStore).
 */
export interface AlertStateStore {
  /**
   * True when other processes read and write the same state: the analyzer then loads it before every
   * round and never saves a half it did not change (its copy may be older than another replica's).
   */
  readonly isShared: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The saved state; empty when nothing was saved yet. */
  load(): Promise<AlertState>;
  /** Saves `parts` of `state` (a store that keeps both in one place may write both). */
  save(state: AlertState, parts: readonly AlertStatePart[]): Promise<void>;
}
