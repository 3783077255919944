import { randomInt } from "node:crypto";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { open, rename } from "node:fs/promises";
import { join } from "node:path";

/** The batches one drain of the aggregator turned into, as the flusher writes them. */
export type JournaledKind = "metrics" | "entities" | "samples";

export interface JournaledBatch {
  /** Unique among writes to the same storage; metric batches are written under it (core/storage/port.ts). */
  id: number;
  kind: JournaledKind;
  rows: readonly unknown[];
}

/**
 * Span ids (`traceId:spanId`) by the span segment they were logged in, for spans whose metrics a journaled
 * drain holds: a replay of those segments must not count them again.
 */
export type CountedSpans = Record<number, readonly string[]>;

/** A drain an earlier process journaled, with the batches storage had not been seen to take. */
export interface RecoveredDrain {
  name: string;
  /** The write-ahead buffer's checkpoint marks at the drain's seal: its input is in the batches now. */
  marks: readonly number[];
  batches: JournaledBatch[];
}

interface DrainFile {
  marks: readonly number[];
  batches: JournaledBatch[];
  counted?: CountedSpans;
}

const DRAIN_FILE = /^(\d{16})\.json$/;
const SETTLED_SUFFIX = ".settled";
/** The counted spans of the last drain journaled, kept past its settling: span segments outlive drains. */
const COUNTED_SPANS_FILE = "counted-spans.json";
/** Write ids are random: a fresh one never matches an id storage holds, whichever process wrote that. */
const MAX_WRITE_ID = 2 ** 48 - 1;

/**
 * The flusher's drains on disk, each until storage has taken all of its batches: the half of the
 * write-ahead buffer (docs/deploy.md, "Crash recovery") that holds what was aggregated rather than what was
 * received. Once a drain is journaled, the received input up to its seal is not needed: the journal file
 * carries the buffer's marks, so a restart deletes those segments even when the process died before it
 * could, and writes the drain's unsettled batches instead of re-aggregating their input. A drain file is
 * written whole or not at all (a temporary file renamed into place); each batch storage takes is appended
 * to a `.settled` file beside it, and both go once every batch is settled. A drain also carries the spans
 * whose metrics are journaled so far and whose span segments are still on disk; once it is in place they
 * are copied to a file of their own, which outlives the drain.
 */
export class DrainJournal {
  private sequence = 0;
  /** Drain name -> batches not settled yet. */
  private readonly unsettled = new Map<string, Set<number>>();

  /** What open() read: spans whose metrics an earlier process journaled, by span segment. */
  private countedAtOpen: CountedSpans = {};

  constructor(private readonly dir: string) {}

  /** Spans an earlier process counted into journaled drains (read by open()). */
  get countedSpans(): CountedSpans {
    return this.countedAtOpen;
  }

  /** Reads the drains an earlier process left, dropping batches it settled; call once, before record(). */
  open(): RecoveredDrain[] {
    mkdirSync(this.dir, { recursive: true });
    const files = readdirSync(this.dir).sort();
    const recovered: RecoveredDrain[] = [];
    // Each drain's list holds its predecessors', less committed segments: the union covers a crash between a drain and its copy.
    const counted = [readCounted(join(this.dir, COUNTED_SPANS_FILE))];
    for (const file of files) {
      const name = DRAIN_FILE.exec(file)?.[1];
      if (name === undefined) continue;
      this.sequence = Math.max(this.sequence, Number(name));
      const drain = JSON.parse(readFileSync(join(this.dir, file), "utf8")) as DrainFile;
      counted.push(drain.counted ?? {});
      const settled = this.settledIn(name);
      const batches = drain.batches.filter((batch) => !settled.has(batch.id));
      if (batches.length === 0) {
        this.remove(name);
        continue;
      }
      this.unsettled.set(name, new Set(batches.map((batch) => batch.id)));
      recovered.push({ name, marks: drain.marks, batches });
    }
    this.countedAtOpen = unionOf(counted);
    // A temporary file is a drain never journaled (the write-ahead buffer still has its input); a settled
    // list without its drain was left by a removal cut short.
    for (const file of files) {
      if (file.endsWith(".tmp") || (file.endsWith(SETTLED_SUFFIX) && !this.unsettled.has(file.slice(0, -SETTLED_SUFFIX.length)))) rmSync(join(this.dir, file), { force: true });
    }
    return recovered;
  }

  /** A fresh write id for a batch about to be journaled. */
  newWriteId(): number {
    return randomInt(1, MAX_WRITE_ID);
  }

  /**
   * Journals a drain durably (fsync), with the spans whose metrics it and the drains before it hold
   * (`counted`, when a span buffer gives them); resolves to its name, which settle() takes.
   */
  async record(marks: readonly number[], batches: readonly JournaledBatch[], counted?: CountedSpans): Promise<string> {
    const name = String(++this.sequence).padStart(16, "0");
    await writeWhole(join(this.dir, `${name}.json`), { marks, batches, counted });
    this.unsettled.set(name, new Set(batches.map((batch) => batch.id)));
    if (counted !== undefined) await writeWhole(join(this.dir, COUNTED_SPANS_FILE), counted);
    return name;
  }

  /** Storage took the batch (or it was given up, counted): a restart must not write it again. */
  settle(name: string, batchId: number): void {
    const batches = this.unsettled.get(name);
    if (batches === undefined || !batches.delete(batchId)) return;
    if (batches.size > 0) {
      // write(2) survives the process being killed; an OS crash before the flush only repeats an upsert or a sample.
      appendFileSync(join(this.dir, `${name}${SETTLED_SUFFIX}`), `${batchId}\n`);
      return;
    }
    this.unsettled.delete(name);
    this.remove(name);
  }

  /** Drains journaled and not yet settled: 0 once storage has taken everything drained. */
  get openDrains(): number {
    return this.unsettled.size;
  }

  private settledIn(name: string): Set<number> {
    try {
      const lines = readFileSync(join(this.dir, `${name}${SETTLED_SUFFIX}`), "utf8").split("\n");
      return new Set(lines.filter((line) => line.length > 0).map(Number));
    } catch {
      return new Set();
    }
  }

  private remove(name: string): void {
    // The drain file first: a settled list left without its drain is removed at the next open.
    rmSync(join(this.dir, `${name}.json`), { force: true });
    rmSync(join(this.dir, `${name}${SETTLED_SUFFIX}`), { force: true });
  }
}

/** Writes `value` as JSON to `path` whole or not at all: a temporary file, fsynced, renamed into place. */
async function writeWhole(path: string, value: unknown): Promise<void> {
  const file = await open(`${path}.tmp`, "w");
  try {
    await file.writeFile(JSON.stringify(value));
    await file.datasync();
  } finally {
    await file.close();
  }
  await rename(`${path}.tmp`, path);
}

function readCounted(path: string): CountedSpans {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as CountedSpans;
  } catch {
    return {};
  }
}

function unionOf(lists: readonly CountedSpans[]): CountedSpans {
  const union = new Map<string, Set<string>>();
  for (const list of lists) {
    for (const [segment, ids] of Object.entries(list)) {
      const set = union.get(segment) ?? new Set<string>();
      for (const id of ids) set.add(id);
      union.set(segment, set);
    }
  }
  return Object.fromEntries([...union].map(([segment, ids]) => [segment, [...ids]]));
}
