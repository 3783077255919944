import type { FastifyPluginAsync } from "fastify";
import type { Logger } from "pino";
import type { Component } from "../core/lifecycle.ts";
import type { AccessLogIngest, SpanIngestPort } from "./ingest.ts";

export interface IngestActivityOptions {
  logger: Logger;
  /** Records rejected so far by the whole process (RejectCounter.total), read at each summary. */
  rejectedTotal: () => number;
  /** Between summaries; 0 writes none (first-data lines are still written). */
  summaryIntervalMs: number;
  now?: () => number;
}

/**
 * What a person watching the console wants to know about input: one info line when a receiver takes its
 * first records (the mesh is wired up), and a one-line summary of each receiver's rate and the rejects,
 * at most once per interval and only when something arrived or was rejected, so an idle process stays quiet.
 * Receivers are wrapped by name; the wrappers count what their pipeline took, not what it refused.
 */
export class IngestActivity {
  private readonly seen = new Set<string>();
  /** Records taken per receiver since the last summary; the keys are the receivers' fixed names. */
  private readonly sinceSummary = new Map<string, number>();
  private readonly now: () => number;
  private summaryStartMs = 0;
  /** When any receiver last took records; undefined before the first. */
  private lastTakenMs: number | undefined;
  private rejectedAtSummary = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: IngestActivityOptions) {
    this.now = options.now ?? Date.now;
  }

  accessLogs(receiver: string, inner: AccessLogIngest): AccessLogIngest {
    const note = (count: number): void => this.note(receiver, count, "entries");
    return {
      ingest(proxy, entries, alsMessage) {
        const isTaken = inner.ingest(proxy, entries, alsMessage);
        if (isTaken) note(entries.length);
        return isTaken;
      },
      get aggregatedEntries() {
        return inner.aggregatedEntries;
      },
      // The write-ahead buffer's promise, so a receiver behind this count still acknowledges only what is durable.
      durable: () => inner.durable?.() ?? Promise.resolve(),
      end: () => inner.end?.(),
    };
  }

  spans(receiver: string, inner: SpanIngestPort): SpanIngestPort {
    return {
      ingest: (protocol, inputs) => {
        const result = inner.ingest(protocol, inputs);
        if (result.outcome === "accepted") this.note(receiver, result.accepted, "spans");
        return result;
      },
      durable: () => inner.durable?.() ?? Promise.resolve(),
    };
  }

  /** Writes the summary of the time since the last one, if anything happened in it. */
  summarize(): void {
    const nowMs = this.now();
    const seconds = Math.max(1, (nowMs - this.summaryStartMs) / 1000);
    const rejectedTotal = this.options.rejectedTotal();
    const rejected = rejectedTotal - this.rejectedAtSummary;
    const received = [...this.sinceSummary].filter(([, count]) => count > 0);
    this.summaryStartMs = nowMs;
    this.rejectedAtSummary = rejectedTotal;
    this.sinceSummary.clear();
    if (received.length === 0 && rejected === 0) return;
    const rates = Object.fromEntries(received.map(([receiver, count]) => [receiver, round(count / seconds)]));
    const described = received.map(([receiver]) => `${receiver} ${rates[receiver]}/s`).join(", ");
    this.options.logger.info(
      { intervalSeconds: round(seconds), perSecond: rates, rejected },
      `ingest over the last ${Math.round(seconds)} s: ${described === "" ? "nothing received" : described}; ${rejected} rejected`,
    );
  }

  /**
   * GET /api/v1/ingest/freshness: when this process last took records (null before any) and its clock, so the
   * page can say how old the newest data is without trusting the browser's clock.
   */
  routes(): FastifyPluginAsync {
    return async (app) => {
      app.get("/api/v1/ingest/freshness", { config: { scope: "read" } }, async () => ({ lastReceivedMs: this.lastTakenMs ?? null, nowMs: this.now() }));
    };
  }

  component(): Component {
    return {
      name: "collector.activity",
      start: async () => {
        this.summaryStartMs = this.now();
        this.rejectedAtSummary = this.options.rejectedTotal();
        if (this.options.summaryIntervalMs > 0) this.timer = setInterval(() => this.summarize(), this.options.summaryIntervalMs).unref();
      },
      stop: async () => clearInterval(this.timer),
    };
  }

  private note(receiver: string, count: number, unit: string): void {
    if (count === 0) return;
    this.lastTakenMs = this.now();
    this.sinceSummary.set(receiver, (this.sinceSummary.get(receiver) ?? 0) + count);
    if (this.seen.has(receiver)) return;
    this.seen.add(receiver);
    this.options.logger.info({ receiver, count }, `first data on ${receiver}: ${count} ${unit}`);
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
