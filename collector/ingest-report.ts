import type { CoveredRange } from "./aggregate/minute-admission.ts";
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

const CARRIAGE_RETURN_AND_CLEAR_LINE = "\r\u001b[K";
/**
 * A whole number with thousands separators (`1,200,000`), as en-US prints it. Written out because the first
 * Intl formatter of a process loads locale data (~25 ms of CPU, a twentieth of an empty `ingest`).
 */
export function count(value: number): string {
  const digits = String(Math.round(Math.abs(value)));
  let grouped = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let index = grouped.length; index < digits.length; index += 3) grouped += `,${digits.slice(index, index + 3)}`;
  return value < 0 && grouped !== "0" ? `-${grouped}` : grouped;
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
  /** The run's own account (ingest-account.ts): its rejects by reason are the ones it added to meshsight_rejected_total. */
  totals: IngestTotals;
  /** Rows storage never took (the flusher gave up on them): the run lost data. */
  droppedRows: number;
  wasInterrupted: boolean;
  /** The minutes the accepted lines fell in, or null when none was. */
  covered: CoveredRange | null;
}

/**
 * The plain-text totals printed on stdout when the run ends: the reasons listed are the run's account, so
 * they add up to the rejected count, and the time range says where to look for what was stored.
 */
export function formatSummary(summary: IngestSummary): string {
  const { totals } = summary;
  const seconds = totals.elapsedMs / 1000;
  const lines = [
    `${summary.wasInterrupted ? "interrupted after" : "ingested"} ${count(totals.lines)} lines in ${seconds.toFixed(2)} s (${count(totals.linesPerSecond)} lines/s): ${count(totals.accepted)} accepted, ${count(totals.rejected)} rejected`,
  ];
  const reasons = Object.entries(totals.rejectsByReason)
    .filter(([, value]) => value > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key} ${count(value)}`);
  if (reasons.length > 0) lines.push(`rejects by reason: ${reasons.join(", ")}`);
  if (summary.covered !== null) lines.push(`time range: ${minuteText(summary.covered.fromMs)} to ${minuteText(summary.covered.toMs)} (from=${summary.covered.fromMs}&to=${summary.covered.toMs})`);
  if (summary.droppedRows > 0) lines.push(`storage failed: ${count(summary.droppedRows)} aggregated rows could not be written`);
  return `${lines.join("\n")}\n`;
}

function minuteText(timeMs: number): string {
  return new Date(timeMs).toISOString().replace(":00.000Z", "Z");
}

/** `meshsight ingest` exit codes (docs/configuration.md, "meshsight ingest"). */
export const INGEST_EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

export interface IngestVerdict {
  code: number;
  /** Why the run failed, for the user; empty when it did not. */
  message: string;
}

/**
 * Whether a finished run is a success for scripts: storage losses and interruptions fail it (1); so does an
 * input that stored nothing, and, with `maxRejectShare`, more lines not accepted than that share (3).
 */
export function judgeIngest(summary: IngestSummary, isStorageClean: boolean, maxRejectShare: number | undefined): IngestVerdict {
  const { lines, accepted } = summary.totals;
  if (summary.droppedRows > 0 || !isStorageClean) return { code: INGEST_EXIT.failed, message: "" };
  if (summary.wasInterrupted) return { code: INGEST_EXIT.failed, message: "" };
  if (lines > 0 && accepted === 0) return { code: INGEST_EXIT.refused, message: `nothing stored: none of the ${count(lines)} lines was accepted` };
  const share = lines === 0 ? 0 : (lines - accepted) / lines;
  if (maxRejectShare !== undefined && share > maxRejectShare) {
    return { code: INGEST_EXIT.refused, message: `${(share * 100).toFixed(1)}% of the lines were not accepted, more than --max-reject-share ${maxRejectShare}` };
  }
  return { code: INGEST_EXIT.ok, message: "" };
}
