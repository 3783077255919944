import type { DuckDBAppender, DuckDBConnection } from "@duckdb/node-api";

/**
 * A temp table rows are appended to and then moved into their real table by one `INSERT ... SELECT`, so
 * the SELECT can do in DuckDB what is slow through the appender (casting JSON text to MAP values) or
 * settle duplicates against stored rows (`ON CONFLICT DO NOTHING`).
 */
export class StagingTable {
  constructor(
    private readonly connection: DuckDBConnection,
    private readonly name: string,
    /** Column definitions of the temp table. */
    private readonly columns: string,
    /** The statement moving the staged rows on; it reads `FROM <name>`. */
    private readonly insertSql: string,
  ) {}

  async prepare(): Promise<void> {
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE ${this.name} (${this.columns})`);
  }

  /**
   * Appends each row through `appendRow` (one appender call per column), then inserts. The table is made
   * anew rather than emptied: DuckDB keeps a temp table's deleted rows in memory for good (each batch
   * staged stayed, ~7 MiB per 100k rows, and every later INSERT ... SELECT scanned past them). The caller
   * provides the transaction.
   */
  async write<T>(rows: Iterable<T>, appendRow: (appender: DuckDBAppender, row: T) => void): Promise<void> {
    await this.prepare();
    const appender = await this.connection.createAppender(this.name, "main", "temp");
    let isComplete = false;
    try {
      for (const row of rows) {
        appendRow(appender, row);
        appender.endRow();
      }
      isComplete = true;
    } finally {
      if (!isComplete) appender.clear();
      appender.closeSync();
    }
    await this.connection.run(this.insertSql);
  }
}
