import type { IngestProgress, IngestTotals } from "./receivers/access-log/stream-ingest.ts";

/**
 * What `meshsight ingest` tells its user: a live progress line on a terminal, and a plain summary of the
 * totals at the end (the only output when stderr is a file or a pipe, so logs and CI output stay clean).
 */

/** Where the progress line goes (stderr); `isTTY` decides whether a line that rewrites itself makes sense. */
export interface ProgressTerminal {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** Rejects counted anywhere in the pipeline, keyed `source/reason` (meshsight_rejected_total). */
export type RejectsBySourceAndReason = Record<string, number>;

const CARRIAGE_RETURN_AND_CLEAR_LINE = "\r\u001b[K";
const numberFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

function count(value: number): string {
  return numberFormat.format(value);
}

export function formatProgressLine(progress: IngestProgress): string {
  return `${count(progress.lines)} lines  ${count(progress.linesPerSecond)} lines/s  ${count(progress.rejected)} rejected`;
}

/**
 * A progress line that rewrites itself in place on a terminal and stays silent elsewhere. The caller
 * (ingestStream's onProgress) already limits how often it is called; `finish` ends the line so the summary
 * starts on a fresh one.
 */
export class ProgressLine {
  private hasWritten = false;

  constructor(private readonly terminal: ProgressTerminal) {}

  update(progress: IngestProgress): void {
    if (this.terminal.isTTY !== true) return;
    this.terminal.write(CARRIAGE_RETURN_AND_CLEAR_LINE + formatProgressLine(progress));
    this.hasWritten = true;
  }

  finish(): void {
    if (this.hasWritten) this.terminal.write("\n");
    this.hasWritten = false;
  }
}

export interface IngestSummary {
  totals: IngestTotals;
  /** Every reject the run counted, including the pipeline's own (late, future, endpoint cap, flush drops). */
  rejects: RejectsBySourceAndReason;
  /** Rows storage never took (the flusher gave up on them): the run lost data. */
  droppedRows: number;
  wasInterrupted: boolean;
}

/** The plain-text totals printed on stdout when the run ends. */
export function formatSummary(summary: IngestSummary): string {
  const { totals } = summary;
  const seconds = totals.elapsedMs / 1000;
  const lines = [
    `${summary.wasInterrupted ? "interrupted after" : "ingested"} ${count(totals.lines)} lines in ${seconds.toFixed(2)} s (${count(totals.linesPerSecond)} lines/s): ${count(totals.accepted)} accepted, ${count(totals.rejected)} rejected`,
  ];
  const reasons = Object.entries(summary.rejects)
    .filter(([, value]) => value > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key} ${count(value)}`);
  if (reasons.length > 0) lines.push(`rejects by reason: ${reasons.join(", ")}`);
  if (summary.droppedRows > 0) lines.push(`storage failed: ${count(summary.droppedRows)} aggregated rows could not be written`);
  return `${lines.join("\n")}\n`;
}
