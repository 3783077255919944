import type { Readable } from "node:stream";
import type { AccessLogEntry, ProxyIdentity } from "../../../core/model/access-log.ts";
import type { AccessLogIngest } from "../../ingest.ts";
import { DEFAULT_BACKPRESSURE, deliverWithBackpressure, type BackpressureOptions } from "./deliver.ts";
import { createLineParser, type LineFormatOptions } from "./formats.ts";
import { IngestAccount } from "./ingest-account.ts";
import { AccessLogLineDecoder, DEFAULT_MAX_LINE_BYTES, type RejectLedger } from "./line-decoder.ts";

/** Bytes decoded per delivery (see ingestStream). */
const DECODE_SLICE_BYTES = 64 * 1024;

export interface IngestProgress {
  /** Non-blank lines read: each one is accepted (aggregated) or rejected (ingest-account.ts). */
  lines: number;
  accepted: number;
  /** Rejects counted for this input, by the decoder and downstream: the sum of rejectsByReason. */
  rejected: number;
  elapsedMs: number;
  /** Lines per second of wall time since the start, for a progress bar. */
  linesPerSecond: number;
  /** Keyed `source/reason`, as `meshsight_rejected_total` labels them. */
  rejectsByReason: Record<string, number>;
}

export interface IngestTotals extends IngestProgress {
  /** False when the signal stopped the run before the input ended. */
  isComplete: boolean;
}

/** Nothing read yet: what the totals of several inputs start from. */
export const NO_TOTALS: IngestTotals = { lines: 0, accepted: 0, rejected: 0, elapsedMs: 0, linesPerSecond: 0, rejectsByReason: {}, isComplete: true };

/** The progress of inputs read one after another: `earlier`'s totals with `current`'s added. */
export function addProgress<Progress extends IngestProgress>(earlier: IngestProgress, current: Progress): Progress {
  const rejectsByReason = { ...earlier.rejectsByReason };
  for (const [key, count] of Object.entries(current.rejectsByReason)) rejectsByReason[key] = (rejectsByReason[key] ?? 0) + count;
  const lines = earlier.lines + current.lines;
  const elapsedMs = earlier.elapsedMs + current.elapsedMs;
  return {
    ...current,
    lines,
    accepted: earlier.accepted + current.accepted,
    rejected: earlier.rejected + current.rejected,
    elapsedMs,
    linesPerSecond: elapsedMs > 0 ? (lines * 1000) / elapsedMs : 0,
    rejectsByReason,
  };
}

export interface StreamIngestOptions {
  /** `istio`, `envoy`, `json`, `mosn`, `custom:<format>` or `mosn:<format>`. */
  format: string;
  formatOptions?: LineFormatOptions;
  /** Who wrote the lines (from the command line: `--service reviews --namespace default`). */
  proxy: ProxyIdentity;
  ingest: AccessLogIngest;
  /** The reject counter the pipeline behind `ingest` counts with. */
  rejects: RejectLedger;
  maxLineBytes?: number;
  backpressure?: Partial<BackpressureOptions>;
  onProgress?: (progress: IngestProgress) => void;
  progressIntervalMs?: number;
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * Ingests a stream of log lines (`meshsight ingest --format istio < access.log`): reads chunks as the stream
 * yields them, decodes, and delivers with backpressure, which pauses reading while the pipeline refuses.
 * Reports progress at most every `progressIntervalMs` and once at the end; resolves with the totals.
 */
export async function ingestStream(input: Readable, options: StreamIngestOptions): Promise<IngestTotals> {
  const now = options.now ?? Date.now;
  const decoder = new AccessLogLineDecoder(createLineParser(options.format, options.formatOptions), options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const backpressure: BackpressureOptions = { ...DEFAULT_BACKPRESSURE, keepsProcessAlive: true, ...options.backpressure, signal: options.signal };
  const progressIntervalMs = options.progressIntervalMs ?? 1000;
  const startedMs = now();
  let lastProgressMs = startedMs;
  let isComplete = true;
  const account = new IngestAccount(options.ingest, options.rejects);

  const progress = (): IngestProgress => {
    const elapsedMs = now() - startedMs;
    const outcome = account.outcome(decoder);
    return {
      lines: outcome.lines,
      accepted: outcome.accepted,
      rejected: outcome.rejected,
      elapsedMs,
      linesPerSecond: elapsedMs > 0 ? (outcome.lines * 1000) / elapsedMs : 0,
      rejectsByReason: outcome.reasons,
    };
  };
  const deliver = async (entries: AccessLogEntry[]): Promise<boolean> => {
    const taken = await deliverWithBackpressure(account, options.proxy, entries, backpressure);
    decoder.tally.reportTo(options.rejects);
    return taken === entries.length;
  };

  reading: for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    // Decoded and delivered a slice at a time: the entries of one slice are all alive until delivered, and
    // ~200 of them die young where a whole 1 MiB chunk's ~3k would be promoted and cost old-generation GC.
    for (let offset = 0; offset < bytes.length; offset += DECODE_SLICE_BYTES) {
      const entries: AccessLogEntry[] = [];
      decoder.decode(bytes.subarray(offset, offset + DECODE_SLICE_BYTES), entries);
      if (!(await deliver(entries)) || options.signal?.aborted === true) {
        isComplete = false;
        break reading;
      }
    }
    if (options.onProgress !== undefined && now() - lastProgressMs >= progressIntervalMs) {
      lastProgressMs = now();
      options.onProgress(progress());
    }
  }
  if (isComplete) {
    const last: AccessLogEntry[] = [];
    decoder.finish(last);
    isComplete = await deliver(last);
  }
  const totals = { ...progress(), isComplete };
  options.onProgress?.(totals);
  return totals;
}

