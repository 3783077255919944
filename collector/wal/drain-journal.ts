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
}

const DRAIN_FILE = /^(\d{16})\.json$/;
const SETTLED_SUFFIX = ".settled";
/** Write ids are random: a fresh one never matches an id storage holds, whichever process wrote that. */
const MAX_WRITE_ID = 2 ** 48 - 1;

/**
 * The flusher's drains on disk, each until storage has taken all of its batches: the half of the
 * write-ahead buffer (docs/deploy.md, "Crash recovery") that holds what was aggregated rather than what was
 * received. Once a drain is journaled, the received input up to its seal is not needed: the journal file
 * carries the buffer's marks, so a restart deletes those segments even when the process died before it
 * could, and writes the drain's unsettled batches instead of re-aggregating their input. A drain file is
 * written whole or not at all (a temporary file renamed into place); each batch storage takes is appended
 * to a `.settled` file beside it, and both go once every batch is settled.
 */
export class DrainJournal {
  private sequence = 0;
  /** Drain name -> batches not settled yet. */
  private readonly unsettled = new Map<string, Set<number>>();

  constructor(private readonly dir: string) {}

  /** Reads the drains an earlier process left, dropping batches it settled; call once, before record(). */
  open(): RecoveredDrain[] {
    mkdirSync(this.dir, { recursive: true });
    const files = readdirSync(this.dir).sort();
    const recovered: RecoveredDrain[] = [];
    for (const file of files) {
      const name = DRAIN_FILE.exec(file)?.[1];
      if (name === undefined) continue;
      this.sequence = Math.max(this.sequence, Number(name));
      const drain = JSON.parse(readFileSync(join(this.dir, file), "utf8")) as DrainFile;
      const settled = this.settledIn(name);
      const batches = drain.batches.filter((batch) => !settled.has(batch.id));
      if (batches.length === 0) {
        this.remove(name);
        continue;
      }
      this.unsettled.set(name, new Set(batches.map((batch) => batch.id)));
      recovered.push({ name, marks: drain.marks, batches });
    }
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

  /** Journals a drain durably (fsync); resolves to its name, which settle() takes. */
  async record(marks: readonly number[], batches: readonly JournaledBatch[]): Promise<string> {
    const name = String(++this.sequence).padStart(16, "0");
    const path = join(this.dir, `${name}.json`);
    const file = await open(`${path}.tmp`, "w");
    try {
      await file.writeFile(JSON.stringify({ marks, batches }));
      await file.datasync();
    } finally {
      await file.close();
    }
    await rename(`${path}.tmp`, path);
    this.unsettled.set(name, new Set(batches.map((batch) => batch.id)));
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
