import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino, type Logger } from "pino";
import { Registry } from "prom-client";
import { InlineQueue } from "../../core/queue/inline.ts";
import type { JobQueue } from "../../core/queue/port.ts";
import { DuckDbStorage } from "../../core/storage/duckdb/duckdb-storage.ts";
import { InvalidProbeSpecError, type ProbeContext, type ProbeKind, type ProbeOutcome } from "../../prober/kinds/kind.ts";
import { parseProbeCase, type KindLookup, type ProbeCase } from "../../prober/case.ts";
import { proberSection, type ProberConfig } from "../../prober/config.ts";
import { createProber, type Prober } from "../../prober/prober.ts";

export const silentLogger = pino({ level: "silent" });

/** One call a test kind received. */
export interface KindCall {
  target: string;
  startedMs: number;
  endedMs: number | undefined;
  worker: string;
}

export interface TestSpec {
  /** Attempts per target that fail before one succeeds (counts down across runs). */
  failFirst: number;
  /** How long a run takes; it ends early when aborted. */
  durationMs: number;
  /** Ignore the abort signal: a stuck run. */
  ignoreAbort: boolean;
  /** Throw instead of answering: a broken kind. */
  throws: boolean;
}

/**
 * A small kind implementing the real ProbeKind contract, recording every call, so scheduling, retries,
 * timeouts and dedupe can be checked without depending on network kinds.
 */
export class RecordingKind implements ProbeKind<TestSpec> {
  readonly calls: KindCall[] = [];
  private readonly failuresLeft = new Map<string, number>();

  constructor(
    readonly name: string,
    private readonly worker = "main",
  ) {}

  parseSpec(raw: unknown): TestSpec {
    if (typeof raw !== "object" || raw === null) throw new InvalidProbeSpecError("spec: expected a mapping");
    const spec = raw as Partial<Record<keyof TestSpec, unknown>>;
    if (spec.durationMs !== undefined && typeof spec.durationMs !== "number") throw new InvalidProbeSpecError("spec.durationMs: expected a number");
    return {
      failFirst: typeof spec.failFirst === "number" ? spec.failFirst : 0,
      durationMs: typeof spec.durationMs === "number" ? spec.durationMs : 0,
      ignoreAbort: spec.ignoreAbort === true,
      throws: spec.throws === true,
    };
  }

  async run(spec: TestSpec, target: string, context: ProbeContext): Promise<ProbeOutcome> {
    const call: KindCall = { target, startedMs: Date.now(), endedMs: undefined, worker: this.worker };
    this.calls.push(call);
    try {
      if (spec.throws) throw new Error("kind exploded");
      if (spec.durationMs > 0) await wait(spec.durationMs, spec.ignoreAbort ? undefined : context.signal);
      if (context.signal.aborted) return { status: "timeout", message: "aborted", phases: {}, metrics: {} };
      const left = this.failuresLeft.get(target) ?? spec.failFirst;
      if (left > 0) {
        this.failuresLeft.set(target, left - 1);
        return { status: "failure", message: `planned failure, ${left - 1} left`, phases: { total: 1 }, metrics: { http_status_code: 503 } };
      }
      return { status: "success", message: "", phases: { dns: 1, connect: 2, tls: 3, processing: 4, transfer: 5, total: 15 }, metrics: { http_status_code: 200 } };
    } finally {
      call.endedMs = Date.now();
    }
  }
}

function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

export function lookup(...kinds: Array<ProbeKind<unknown>>): KindLookup {
  const byName = new Map(kinds.map((kind) => [kind.name, kind]));
  return (name) => byName.get(name);
}

export function testCase(kinds: KindLookup, definition: Record<string, unknown>): ProbeCase {
  return parseProbeCase({ kind: "test", targets: ["a"], ...definition }, kinds, "test");
}

/** Loopback is allowed: the test servers probes reach listen on 127.0.0.1 (the default policy denies it). */
export function proberConfig(overrides: Partial<ProberConfig> = {}): ProberConfig {
  return { ...proberSection.schema.parse({ egress: { allow: ["127.0.0.0/8", "::1"] } }), resultFlushIntervalMs: 50, ...overrides };
}

export interface ProberHarness {
  prober: Prober;
  storage: DuckDbStorage;
  queue: JobQueue;
  registry: Registry;
  dataDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A prober on the inline queue and in-memory DuckDB, as `meshsight start` runs it without Redis. */
export async function proberHarness(kinds: KindLookup, overrides: Partial<ProberConfig> = {}, queue?: JobQueue, logger: Logger = silentLogger): Promise<ProberHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), "meshsight-prober-"));
  const storage = new DuckDbStorage({
    path: ":memory:",
    logger: silentLogger,
    retention: { minuteDays: 7, hourDays: 30, dayDays: 365, samplesDays: 7, spansDays: 7, probeResultsDays: 30 },
  });
  const jobQueue = queue ?? new InlineQueue({ maxPending: 10_000, logger: silentLogger });
  const registry = new Registry();
  const prober = createProber({ dataDir, storage, queue: jobQueue, kinds, registry, logger }, { prober: proberConfig(overrides) });
  let started = 0;
  return {
    prober,
    storage,
    queue: jobQueue,
    registry,
    dataDir,
    async start() {
      await storage.start();
      for (const component of prober.components) {
        await component.start();
        started += 1;
      }
    },
    async stop() {
      for (const component of prober.components.slice(0, started).reverse()) await component.stop();
      await jobQueue.close();
      await storage.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
