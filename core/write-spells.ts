/** A check's rows under 1/DROP_FACTOR of the busiest check's since the last release mean the spell has ended. */
const DROP_FACTOR = 4;

/**
 * Tells when a spell of heavy writing (an entity flood, a backlog loaded after an outage) has ended, so the
 * memory it made the process take can be given back: DuckDB keeps every block it cached and V8 the heap it
 * grew, idle, until the process ends (bench/README.md, "Entity flood"). Asked once per check interval;
 * between checks it only adds up rows, so it costs nothing while nothing happens.
 */
export class WriteSpellTracker {
  private rowsSinceCheck = 0;
  private busiestCheckRows = 0;

  /** @param minSpellRows rows one check must have seen for the spell to be worth giving memory back after. */
  constructor(private readonly minSpellRows: number) {}

  noteWritten(rows: number): void {
    this.rowsSinceCheck += rows;
  }

  /**
   * True when the check just ended wrote under a quarter of the busiest one since the last release, that one
   * was a spell, and (`isWriterIdle`) no write is under way: a batch still running is not counted yet.
   */
  spellEnded(isWriterIdle = true): boolean {
    const rows = this.rowsSinceCheck;
    this.rowsSinceCheck = 0;
    this.busiestCheckRows = Math.max(this.busiestCheckRows, rows);
    if (!isWriterIdle || this.busiestCheckRows < this.minSpellRows || rows * DROP_FACTOR > this.busiestCheckRows) return false;
    this.busiestCheckRows = rows;
    return true;
  }
}

