import type { AccessLogEntry } from "../../../core/model/access-log.ts";
import { addReject, type RejectCounts } from "../../../core/telemetry/rejects.ts";
import type { LineParser, LineRejectReason } from "./entry.ts";
import { LineSplitter, type LineSink } from "./line-splitter.ts";

/** Where rejects are reported: core/telemetry/rejects.ts's RejectCounter satisfies it. */
export interface RejectSink {
  reject(source: string, reason: string, count?: number, detail?: string): void;
}

/**
 * A RejectSink that also tells which rejects one synchronous call caused (core/telemetry/rejects.ts's
 * RejectCounter): how a receiver learns what the pipeline refused of the records it handed over.
 */
export interface RejectLedger extends RejectSink {
  during<T>(work: () => T): { result: T; rejects: RejectCounts };
}

/** The `source` label of every reject this receiver reports. */
export const ACCESS_LOG_REJECT_SOURCE = "access-log";

/** Default cap on one line: Istio lines are ~0.5 KiB, so 64 KiB only stops garbage and runaway lines. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/** Rejects counted per reason; the key set is the fixed LineRejectReason union, so the map is bounded. */
export class RejectTally {
  private readonly counts = new Map<LineRejectReason, number>();
  private unreported = new Map<LineRejectReason, number>();
  total = 0;

  add(reason: LineRejectReason): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    this.unreported.set(reason, (this.unreported.get(reason) ?? 0) + 1);
    this.total++;
  }

  /** Reports what was counted since the last call, one reject() per reason (not per line). */
  reportTo(rejects: RejectSink): void {
    if (this.unreported.size === 0) return;
    for (const [reason, count] of this.unreported) rejects.reject(ACCESS_LOG_REJECT_SOURCE, reason, count);
    this.unreported = new Map();
  }

  byReason(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Adds every reject counted so far to `counts`, keyed `access-log/<reason>` as the metric labels them. */
  addTo(counts: RejectCounts): void {
    for (const [reason, count] of this.counts) addReject(counts, `${ACCESS_LOG_REJECT_SOURCE}/${reason}`, count);
  }
}

/**
 * Bytes in, entries out: splits chunks into lines, parses each, and counts every line that fails with its
 * reason. Nothing a line contains can throw out of here; the lines around a bad one are kept.
 */
export class AccessLogLineDecoder implements LineSink {
  readonly tally = new RejectTally();
  private readonly splitter: LineSplitter;
  private output: AccessLogEntry[] = [];
  linesSeen = 0;

  constructor(
    private readonly parser: LineParser,
    maxLineBytes: number = DEFAULT_MAX_LINE_BYTES,
  ) {
    this.splitter = new LineSplitter(maxLineBytes);
  }

  /** Bytes of an unfinished last line held back until its newline arrives. */
  get pendingBytes(): number {
    return this.splitter.pendingBytes;
  }

  /** Appends the entries of every complete line in `chunk` to `output`. */
  decode(chunk: Buffer, output: AccessLogEntry[]): void {
    this.output = output;
    this.splitter.push(chunk, this);
    this.output = [];
  }

  /** End of input: decodes an unterminated last line too. */
  finish(output: AccessLogEntry[]): void {
    this.output = output;
    this.splitter.end(this);
    this.output = [];
  }

  /** Drops an unfinished line (the file under it was truncated or replaced). */
  resetPartialLine(): void {
    this.splitter.reset();
  }

  line(text: string, start: number, end: number): void {
    this.linesSeen++;
    let result: AccessLogEntry | LineRejectReason;
    try {
      result = this.parser.parse(text, start, end);
    } catch {
      // Parsers return reasons rather than throw; this only guards the loop against a parser bug.
      result = "field_count";
    }
    if (typeof result === "string") this.tally.add(result);
    else this.output.push(result);
  }

  reject(reason: LineRejectReason): void {
    this.linesSeen++;
    this.tally.add(reason);
  }
}
