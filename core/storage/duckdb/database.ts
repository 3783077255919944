import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { duckdbApi } from "./duckdb-api.ts";
import { MalformedBatchError, StorageUnavailableError } from "../port.ts";

export const IN_MEMORY = ":memory:";

/**
 * Opens (creating if needed) the database file and its directory. Every failure becomes a
 * StorageUnavailableError naming the path and the cause, because "IO Error" alone tells an operator
 * nothing about which file, or that a second process may be holding its lock.
 */
export async function openDatabase(path: string, memoryLimitMiB?: number): Promise<DuckDBInstance> {
  if (path !== IN_MEMORY) {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (cause) {
      throw new StorageUnavailableError(`cannot create the directory for DuckDB database ${path}: ${errorMessage(cause)}`, { cause });
    }
  }
  try {
    // DuckDB's own default is 80 % of the machine's memory, and its buffer pool keeps what it took: after an
    // entity flood the process stayed near its peak while idle (bench/README.md, entity flood).
    return await duckdbApi.DuckDBInstance.create(path, memoryLimitMiB === undefined ? {} : { memory_limit: `${memoryLimitMiB}MiB` });
  } catch (cause) {
    throw new StorageUnavailableError(`cannot open DuckDB database ${path}: ${errorMessage(cause)}`, { cause });
  }
}

/** Runs `work` inside one transaction on `connection`, rolling back if it throws. */
export async function inTransaction<T>(connection: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await connection.run("BEGIN TRANSACTION");
  try {
    const result = await work();
    await connection.run("COMMIT");
    return result;
  } catch (error) {
    // A failed statement already aborts DuckDB's transaction; ROLLBACK then only clears the state.
    await connection.run("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Integer columns come back as bigint (BIGINT, HUGEINT sums); the model speaks JS numbers. */
export function toNumber(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (value === null || value === undefined) return 0;
  throw new TypeError(`expected a number from DuckDB, got ${typeof value}`);
}

export function toNumberList(value: unknown): number[] {
  if (value === null || value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`expected a list from DuckDB, got ${typeof value}`);
  return value.map(toNumber);
}

export function toText(value: unknown): string {
  if (typeof value === "string") return value;
  throw new TypeError(`expected a string from DuckDB, got ${value === null ? "null" : typeof value}`);
}

/**
 * A time or limit as a BIGINT parameter (a JS number would bind as DOUBLE). Fractional bounds round
 * outwards so the half-open range over integer milliseconds stays the one asked for.
 */
export function integerParam(what: string, value: number, round: (value: number) => number): bigint {
  if (!Number.isFinite(value)) throw new RangeError(`${what} must be a finite number, got ${value}`);
  return BigInt(round(value));
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Errors meaning the rows themselves cannot be stored: DuckDB's data error types (the message's prefix),
 * and the appender's own wording of a refused value (`Failed to append: CHECK constraint failed ...`).
 */
const MALFORMED_DATA_ERROR = /^(?:(?:Conversion|Constraint|Invalid Input|Out of Range|Mismatch Type) Error:|Failed to append: .*(?:constraint|convert|out of range))/is;
/** Error types where the same write can succeed later (disk full or failing, memory, a conflicting transaction). */
const TRANSIENT_ERROR = /^(?:IO|Out of Memory|TransactionContext|Interrupt) Error:/;

/** What a failed write means for the caller (core/storage/port.ts, permanent vs retryable). */
export function classifyDuckDbWriteError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof StorageUnavailableError || error instanceof MalformedBatchError) return error;
  if (MALFORMED_DATA_ERROR.test(error.message)) return new MalformedBatchError(error.message, { cause: error });
  if (TRANSIENT_ERROR.test(error.message)) return new StorageUnavailableError(`DuckDB: ${error.message}`, { cause: error });
  return error;
}
