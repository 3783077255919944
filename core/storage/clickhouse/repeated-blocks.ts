import { createHash } from "node:crypto";

/**
 * Replicated tables drop an inserted block equal to one of the last blocks they took (the server's
 * `replicated_deduplication_window`, 100 by default). That is what makes a retry harmless when the server
 * stored a batch but the client lost the reply. It would also drop a second, legitimate write of the same
 * rows: the flusher writes an open minute's partial sums on every flush, and steady traffic (a health
 * check, a probe) repeats them exactly. ClickHouse before 22.x has no insert_deduplication_token to tell
 * the two apart, so the writer does: it remembers the blocks it stored, and a batch with a block it already
 * stored is a new write, sent with `insert_deduplicate = 0`. Every other batch, retries included, keeps
 * de-duplication on, so a retry of a batch whose reply was lost is still recognised.
 *
 * A block is a partition's rows of one INSERT; tables partition by `toYYYYMMDD(time)`, so by UTC day of
 * `time` (seconds). The server sorts a block by the table's key before hashing it, so rows are compared
 * as a sorted set of lines, whatever order the batch had.
 */

const SECONDS_PER_DAY = 86_400;
/** More than the server's window: what it has forgotten it no longer drops, so forgetting later is harmless. */
const REMEMBERED_BLOCKS = 1_000;

export class StoredBlocks {
  private readonly blocks = new Set<string>();

  /** The identities of the blocks `rows` make in `table`. */
  blocksOf(table: string, rows: readonly { time: number }[]): string[] {
    const byDay = new Map<number, string[]>();
    for (const row of rows) {
      const day = Math.floor(row.time / SECONDS_PER_DAY);
      const lines = byDay.get(day) ?? [];
      lines.push(JSON.stringify(row));
      byDay.set(day, lines);
    }
    return [...byDay.values()].map((lines) => createHash("sha256").update(table).update("\n").update(lines.sort().join("\n")).digest("hex"));
  }

  /** True when one of `blocks` was stored before: the server would take the new write for a retry and drop it. */
  repeatsStored(blocks: readonly string[]): boolean {
    return blocks.some((block) => this.blocks.has(block));
  }

  remember(blocks: readonly string[]): void {
    for (const block of blocks) {
      // Re-inserted at the end, so the oldest are forgotten first.
      this.blocks.delete(block);
      this.blocks.add(block);
    }
    for (const oldest of this.blocks) {
      if (this.blocks.size <= REMEMBERED_BLOCKS) break;
      this.blocks.delete(oldest);
    }
  }
}
