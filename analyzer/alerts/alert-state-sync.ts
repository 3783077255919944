import type { Logger } from "pino";
import { RateLimitedLog } from "../../core/telemetry/rate-limited-log.ts";
import type { AlertBook } from "./alert-book.ts";
import type { AlertStatePart, AlertStateStore } from "./alert-state-store.ts";
import type { SilenceBook } from "./silences.ts";

export interface AlertStateSyncOptions {
  store: AlertStateStore;
  book: AlertBook;
  silences: SilenceBook;
  /** With a shared store, how often a replica re-reads the state so its API shows other replicas' rounds. */
  refreshIntervalMs: number;
  /** Called after the books changed from a load (the alerts gauge follows them). */
  onLoaded: () => void;
  logger: Logger;
}

/**
 * Keeps the in-memory alert and silence books and their store in step. Everything that replaces or saves
 * the books runs one at a time in this process (`exclusive`), so a refresh never swaps the books under a
 * running round. With a shared store a round starts from what the last round (on any replica) saved and
 * saves only the alerts; the silence API saves only the silences; nothing is saved at stop, since this
 * replica's copy may be older than the store's.
 */
export class AlertStateSync {
  private queue: Promise<unknown> = Promise.resolve();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Bumped on every local silence edit: a load that overlapped one must not undo it. */
  private silenceEdits = 0;
  private readonly rateLimitedLog: RateLimitedLog;

  constructor(private readonly options: AlertStateSyncOptions) {
    this.rateLimitedLog = new RateLimitedLog(options.logger);
  }

  get isShared(): boolean {
    return this.options.store.isShared;
  }

  async start(): Promise<void> {
    await this.options.store.start();
    await this.load();
    if (!this.isShared) return;
    this.refreshTimer = setInterval(() => void this.exclusive(() => this.load()).catch((error: unknown) => this.warn("refresh", error)), this.options.refreshIntervalMs);
    this.refreshTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    if (!this.isShared) await this.save(["alerts", "silences"]);
    await this.exclusive(() => this.options.store.stop());
  }

  /** Runs `task` after every earlier one of this process finished (failed ones included). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.catch(() => undefined).then(task);
    this.queue = run;
    return run;
  }

  /** Before a round (inside `exclusive`): a shared store holds what the previous round decided, maybe elsewhere. */
  async beforeRound(): Promise<void> {
    if (this.isShared) await this.load();
  }

  /** After a round (inside `exclusive`). A failed save is logged: the state stays in memory. */
  async afterRound(): Promise<void> {
    await this.save(this.isShared ? ["alerts"] : ["alerts", "silences"]);
  }

  /** Call synchronously right after the silence book changed, before any await. */
  noteSilenceEdit(): void {
    this.silenceEdits++;
  }

  async afterSilenceEdit(): Promise<void> {
    await this.save(this.isShared ? ["silences"] : ["alerts", "silences"]);
  }

  private async load(): Promise<void> {
    const editsBefore = this.silenceEdits;
    const state = await this.options.store.load();
    this.options.book.restore(state.alerts);
    if (this.silenceEdits === editsBefore) this.options.silences.restore(state.silences);
    this.options.onLoaded();
  }

  private async save(parts: readonly AlertStatePart[]): Promise<void> {
    try {
      await this.options.store.save({ alerts: this.options.book.snapshot(), silences: this.options.silences.snapshot() }, parts);
    } catch (error) {
      this.warn("save", error);
    }
  }

  private warn(action: "save" | "refresh", error: unknown): void {
    const message = action === "save" ? "could not save the alert state; it is kept in memory" : "could not refresh the shared alert state; the API shows the last one read";
    this.rateLimitedLog.warn(`alert-state-${action}`, { component: "analyzer", err: error }, message);
  }
}
