import { ListWatch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { SlimmingWatch } from "./slimming-watch.ts";

export interface ReconnectBackoff {
  initialMs: number;
  maxMs: number;
}

export interface ResourceWatcherOptions<T extends KubernetesObject> {
  /** For logs: `pods`, `services`, `endpointslices`. */
  resource: string;
  /** Cluster-wide watch path, e.g. `/api/v1/pods`. */
  path: string;
  kubeConfig: KubeConfig;
  list: () => Promise<{ metadata?: { resourceVersion?: string }; items: readonly unknown[] }>;
  slim: (raw: unknown) => T | null;
  onUpsert: (object: T) => void;
  onDelete: (object: T) => void;
  onBadObject: () => void;
  logger: Logger;
  backoff: ReconnectBackoff;
}

/** A failing API server is logged once, then at most this often, with how many failures were not logged. */
const FAILURE_LOG_INTERVAL_MS = 30_000;

/**
 * One list+watch of a cluster-wide resource, kept alive across API server outages.
 *
 * `@kubernetes/client-node`'s ListWatch reconnects by itself when a watch ends cleanly and relists on 410
 * Gone, but after a failed list or a refused connection it only reports the error and stops. This class
 * restarts it with exponential backoff (with jitter, so many collectors do not stampede a recovering API
 * server). The informer's object store survives the outage untouched, so peers keep resolving from the
 * last known state; on reconnect the watch resumes, or relists on 410, and the cache catches up.
 */
export class ResourceWatcher<T extends KubernetesObject> {
  private readonly informer: ListWatch<T>;
  private readonly watch: SlimmingWatch<T>;
  private consecutiveFailures = 0;
  private lastFailureLogMs = 0;
  private unloggedFailures = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private isRunning = false;

  constructor(private readonly options: ResourceWatcherOptions<T>) {
    this.watch = new SlimmingWatch(options.kubeConfig, options.slim, options.onBadObject);
    this.informer = new ListWatch<T>(options.path, this.watch, () => this.listSlim(), false);
    this.informer.on("add", (object) => this.onEvent(object, options.onUpsert));
    this.informer.on("update", (object) => this.onEvent(object, options.onUpsert));
    this.informer.on("delete", (object) => this.onEvent(object, options.onDelete));
    this.informer.on("error", (error: unknown) => this.onFailure(error));
  }

  /** Resolves after the first list and watch attempt; failures are retried in the background. */
  async start(): Promise<void> {
    if (this.isRunning) return;
    this.isRunning = true;
    this.watch.reopen();
    await this.informer.start();
  }

  async stop(): Promise<void> {
    this.isRunning = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.watch.close();
    await this.informer.stop();
  }

  private async listSlim(): Promise<KubernetesListObject<T>> {
    const list = await this.options.list();
    const items: T[] = [];
    for (const raw of list.items) {
      const slimmed = this.options.slim(raw);
      if (slimmed) items.push(slimmed);
      else this.options.onBadObject();
    }
    this.onHealthy();
    return { metadata: { resourceVersion: list.metadata?.resourceVersion ?? "" }, items };
  }

  private onEvent(object: T, handler: (object: T) => void): void {
    this.onHealthy();
    handler(object);
  }

  private onHealthy(): void {
    if (this.consecutiveFailures === 0) return;
    this.options.logger.info(
      { resource: this.options.resource, failures: this.consecutiveFailures },
      "kubernetes watch recovered; peer cache is being refreshed",
    );
    this.consecutiveFailures = 0;
    this.unloggedFailures = 0;
  }

  private onFailure(error: unknown): void {
    if (!this.isRunning) return;
    this.consecutiveFailures++;
    const delayMs = this.nextDelayMs();
    this.logFailure(error, delayMs);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.isRunning) return;
      // The informer reports its own failures through the error callback; this catch is for the rest.
      this.informer.start().catch((startError: unknown) => this.onFailure(startError));
    }, delayMs);
    this.restartTimer.unref();
  }

  private nextDelayMs(): number {
    const { initialMs, maxMs } = this.options.backoff;
    const exponential = Math.min(initialMs * 2 ** Math.min(this.consecutiveFailures - 1, 30), maxMs);
    return Math.round(exponential * (0.8 + Math.random() * 0.4));
  }

  private logFailure(error: unknown, retryInMs: number): void {
    const nowMs = Date.now();
    if (this.consecutiveFailures > 1 && nowMs - this.lastFailureLogMs < FAILURE_LOG_INTERVAL_MS) {
      this.unloggedFailures++;
      return;
    }
    this.lastFailureLogMs = nowMs;
    this.options.logger.warn(
      {
        resource: this.options.resource,
        error: describeError(error),
        consecutiveFailures: this.consecutiveFailures,
        failuresNotLogged: this.unloggedFailures,
        retryInMs,
      },
      "kubernetes list/watch failed; resolving peers from the last known state until it recovers",
    );
    this.unloggedFailures = 0;
  }
}


function describeError(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
    return `${error.message}${cause}`.slice(0, 300);
  }
  return String(error).slice(0, 300);
}
