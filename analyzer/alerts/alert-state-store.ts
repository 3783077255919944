import type { StateStore } from "../../core/state/port.ts";
import type { AlertRecord } from "./alert-book.ts";
import type { Silence } from "./silences.ts";

export interface AlertState {
  alerts: AlertRecord[];
  silences: Silence[];
}

/** The two halves of the alert state, saved separately: rounds change alerts, the silence API silences. */
export type AlertStatePart = "alerts" | "silences";

/**
 * Where the analyzer keeps alerts and silences between rounds and restarts: the "analyzer" state namespace
 * (core/state/port.ts), one key per half; a file for one process, Redis when several replicas take turns
 * running rounds.
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
  /** Saves `parts` of `state`. */
  save(state: AlertState, parts: readonly AlertStatePart[]): Promise<void>;
}

/**
 * The alert state over a state namespace. Sizes are bounded by the alert book and silence book caps
 * (analyzer.maxAlertHistory, analyzer.maxSilences). No locking: rounds are single-flight across replicas (the
 * analysis queue), and each writer saves only the half it changed.
 */
export class StateAlertStore implements AlertStateStore {
  /** Saves run one after another, so an older state never lands after a newer one from this process. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly store: StateStore) {}

  get isShared(): boolean {
    return this.store.isShared;
  }

  start(): Promise<void> {
    return this.store.start();
  }

  async stop(): Promise<void> {
    await this.writing.catch(() => undefined);
    await this.store.stop();
  }

  /** A value that is not a list is an error (not silently dropped): a round must not start from an empty book by mistake. */
  async load(): Promise<AlertState> {
    const [alerts, silences] = await Promise.all([this.half<AlertRecord>("alerts"), this.half<Silence>("silences")]);
    return { alerts, silences };
  }

  save(state: AlertState, parts: readonly AlertStatePart[]): Promise<void> {
    const values = parts.map((part) => [part, state[part]] as const);
    this.writing = this.writing.catch(() => undefined).then(async () => {
      for (const [part, value] of values) await this.store.put(part, value);
    });
    return this.writing;
  }

  private async half<T>(part: AlertStatePart): Promise<T[]> {
    const entry = await this.store.get(part);
    if (entry === undefined) return [];
    if (!Array.isArray(entry.value)) throw new Error(`alert state "${part}": expected a list`);
    return entry.value as T[];
  }
}

/** The analyzer's file before the state port: `{"version": 1, "alerts": [...], "silences": [...]}`. */
export function legacyAlertStateFile(parsed: unknown): Record<string, unknown> | undefined {
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { version, alerts, silences } = parsed as { version?: unknown; alerts?: unknown; silences?: unknown };
  if (version !== 1 || !Array.isArray(alerts) || !Array.isArray(silences)) return undefined;
  return { alerts, silences };
}
