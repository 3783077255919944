import { appendFile, mkdir, open, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";

/** One audited act: a gate decision, an override, a gate change. */
export interface AuditRecord {
  atMs: number;
  /** The token name (core/http/auth.ts), "anonymous" when auth is off. */
  who: string;
  action: "check" | "override.open" | "override.close" | "override.clear" | "gate.put" | "gate.delete";
  gate: string;
  /** How the act came in: api, flagger, argo. */
  via: string;
  /** What was decided and on which grounds: verdict, checks, run id, override reason and expiry, ... */
  evidence: Record<string, unknown>;
}

export class AuditUnavailableError extends Error {
  override readonly name = "AuditUnavailableError";
}

export interface AuditLogOptions {
  file: string;
  /** When the file grows past this it is renamed to `<file>.1` (replacing the older one): disk use stays under twice this. */
  maxBytes: number;
  /** Records waiting for the disk at most; beyond, acts are refused rather than left unaudited. */
  maxPending: number;
  /** Recent records kept in memory for `GET /api/v1/gate-audit`. */
  recentLimit: number;
}

interface Pending {
  entry: AuditRecord;
  line: string;
  done: () => void;
  failed: (error: unknown) => void;
}

/**
 * Append-only JSON Lines audit log under the data dir (one record per line, greppable, shippable by any
 * log agent). Records are appended in batches by one writer; `record` resolves once its line is on disk,
 * so an act is answered only after it was audited.
 */
export class AuditLog {
  private readonly pending: Pending[] = [];
  private readonly recentRecords: AuditRecord[] = [];
  private writer: Promise<void> | undefined;
  private sizeBytes = 0;

  constructor(private readonly options: AuditLogOptions) {}

  /** Loads the tail of the current file into the recent list, so the API shows history across restarts. */
  async start(): Promise<void> {
    await mkdir(dirname(this.options.file), { recursive: true });
    this.sizeBytes = (await stat(this.options.file).catch(() => ({ size: 0 }))).size;
    if (this.sizeBytes === 0) return;
    const tailBytes = Math.min(this.sizeBytes, 1024 * 1024);
    const handle = await open(this.options.file, "r");
    try {
      const buffer = Buffer.alloc(tailBytes);
      await handle.read(buffer, 0, tailBytes, this.sizeBytes - tailBytes);
      const lines = buffer.toString("utf8").split("\n");
      // The first line of a tail that does not start at 0 is cut; the last one is empty after the final newline.
      for (const line of lines.slice(tailBytes < this.sizeBytes ? 1 : 0)) {
        if (line.trim() === "") continue;
        try {
          this.remember(JSON.parse(line) as AuditRecord);
        } catch {
          // A torn last line after a crash is not worth failing the start for; the file keeps it as is.
        }
      }
    } finally {
      await handle.close();
    }
  }

  async stop(): Promise<void> {
    await this.writer;
  }

  record(entry: AuditRecord): Promise<void> {
    if (this.pending.length >= this.options.maxPending) {
      return Promise.reject(new AuditUnavailableError(`${this.options.maxPending} audit records are already waiting for the disk`));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, line: `${JSON.stringify(entry)}\n`, done: resolve, failed: reject });
      this.writer ??= this.drain();
    });
  }

  /** Newest first. */
  recent(limit: number, gate?: string): AuditRecord[] {
    const matching = gate === undefined ? this.recentRecords : this.recentRecords.filter((entry) => entry.gate === gate);
    return matching.slice(-limit).reverse();
  }

  private remember(entry: AuditRecord): void {
    this.recentRecords.push(entry);
    if (this.recentRecords.length > this.options.recentLimit) this.recentRecords.splice(0, this.recentRecords.length - this.options.recentLimit);
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      const text = batch.map((entry) => entry.line).join("");
      try {
        if (this.sizeBytes > 0 && this.sizeBytes + Buffer.byteLength(text) > this.options.maxBytes) {
          await rename(this.options.file, `${this.options.file}.1`);
          this.sizeBytes = 0;
        }
        await appendFile(this.options.file, text);
        this.sizeBytes += Buffer.byteLength(text);
        for (const written of batch) {
          this.remember(written.entry);
          written.done();
        }
      } catch (error) {
        for (const entry of batch) entry.failed(new AuditUnavailableError(`cannot append to ${this.options.file}: ${error instanceof Error ? error.message : String(error)}`));
      }
    }
    this.writer = undefined;
  }
}
