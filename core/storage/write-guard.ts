import type { Logger } from "pino";
import type { RejectCounter } from "../telemetry/rejects.ts";
import { MalformedBatchError, PartialWriteError } from "./port.ts";
import { ROW_LAYOUTS, storableRows, type RepairReason, type RowKind, type RowTypes } from "./storable-rows.ts";

export interface WriteGuardOptions {
  /** The reject source, e.g. `storage.clickhouse`. */
  source: string;
  /** Counts repaired values and refused rows; without it they are logged. */
  rejects?: RejectCounter;
  logger: Logger;
}

/**
 * Splitting stops after this many refused sub-batches per level of halving (log2 of the batch size): enough
 * to isolate a dozen bad rows exactly, while a batch that is bad throughout (rows that do not fit the
 * schema) costs a bounded number of round trips instead of one per row. Ranges still refused then are
 * counted whole.
 */
const SPLIT_FAILURES_PER_LEVEL = 16;

/**
 * The one path every adapter write takes (metrics, entities, samples, spans, probe results), so one bad
 * row never stops the rest, as the OpenTelemetry Collector treats permanent errors:
 * 1. values are made storable (storable-rows.ts), repairs counted;
 * 2. rows the adapter cannot convert (`prepare` throws) are refused and counted, the rest go on;
 * 3. a batch the server refuses as malformed (MalformedBatchError) is split in halves until the refused
 *    rows stand alone; they are counted as rejects and every other row is stored;
 * 4. any other failure is retryable and is thrown: the batch's own error when nothing was settled yet,
 *    else a PartialWriteError naming the rows still unwritten.
 */
export class WriteGuard {
  constructor(private readonly options: WriteGuardOptions) {}

  async write<Kind extends RowKind, Prepared>(
    kind: Kind,
    rows: readonly RowTypes[Kind][],
    prepare: (row: RowTypes[Kind], index: number) => Prepared,
    insert: (prepared: readonly Prepared[]) => Promise<void>,
  ): Promise<void> {
    const repairs = new Map<RepairReason, number>();
    const storable = storableRows(ROW_LAYOUTS[kind], rows, (reason) => repairs.set(reason, (repairs.get(reason) ?? 0) + 1));
    // Counted once per batch and reason, not once per value.
    for (const [reason, count] of repairs) this.countRepairs(`${kind}_${reason}`, count);
    const valid: RowTypes[Kind][] = [];
    const prepared: Prepared[] = [];
    let invalid = 0;
    let firstProblem = "";
    storable.forEach((row, index) => {
      try {
        prepared.push(prepare(row, index));
        valid.push(row);
      } catch (error) {
        // Rows arrive from other components at run time; one that cannot even be converted is refused like an invalid one.
        invalid++;
        firstProblem ||= error instanceof Error ? error.message : String(error);
      }
    });
    if (invalid > 0) this.report(`invalid_${kind}_row`, invalid, firstProblem);
    if (prepared.length > 0) await this.insertIsolatingRefused(kind, valid, prepared, insert);
  }

  /** Bisection over index ranges; `pending` is a stack whose top is the earliest range not yet settled. */
  private async insertIsolatingRefused<Row, Prepared>(kind: RowKind, rows: readonly Row[], prepared: readonly Prepared[], insert: (prepared: readonly Prepared[]) => Promise<void>): Promise<void> {
    const pending: Array<[number, number]> = [[0, rows.length]];
    const maxFailures = SPLIT_FAILURES_PER_LEVEL * Math.ceil(Math.log2(rows.length + 1));
    let failures = 0;
    let refused = 0;
    let firstProblem = "";
    try {
      for (let range = pending.pop(); range !== undefined; range = pending.pop()) {
        const [start, end] = range;
        try {
          await insert(start === 0 && end === prepared.length ? prepared : prepared.slice(start, end));
        } catch (error) {
          if (!(error instanceof MalformedBatchError)) {
            if (failures === 0) throw error;
            const unwritten = [range, ...pending.reverse()].flatMap(([from, to]) => rows.slice(from, to));
            const cause = error instanceof Error ? error.message : String(error);
            throw new PartialWriteError(`${unwritten.length} of ${rows.length} ${kind} rows are still unwritten: ${cause}`, unwritten, { cause: error });
          }
          failures++;
          firstProblem ||= error.message;
          if (end - start === 1 || failures > maxFailures) {
            refused += end - start;
            continue;
          }
          const middle = start + Math.ceil((end - start) / 2);
          pending.push([middle, end], [start, middle]);
        }
      }
    } finally {
      if (refused > 0) this.report(`malformed_${kind}_row`, refused, firstProblem);
    }
  }

  private countRepairs(reason: string, count: number): void {
    const { rejects, source, logger } = this.options;
    if (rejects) rejects.repaired(source, reason, count);
    else logger.warn({ source, reason, count }, "values repaired before storage");
  }

  private report(reason: string, count: number, firstProblem: string): void {
    const { rejects, source, logger } = this.options;
    if (rejects) rejects.reject(source, reason, count, firstProblem);
    else logger.warn({ source, reason, rejected: count, firstProblem }, "storage refused rows");
  }
}
