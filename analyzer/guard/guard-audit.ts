import { appendFile, mkdir, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";

/** Every guard decision, with what it was based on (docs/self-healing.md, "Audit"). */
export interface GuardAuditRecord {
  atMs: number;
  decision: "allowed" | "refused" | "tripped" | "brake" | "reset";
  /** Operation kind ("delete-pod", "cordon-node", ...). */
  kind: string;
  /** Bucket keys the decision concerns ("delete-pod@namespace/default"). */
  keys: readonly string[];
  target: string;
  /** The actor: an action's name, a Kubernetes user, or the API token that reset a trip. */
  who: string;
  via: "action" | "admission" | "api";
  reason: string;
  evidence: Record<string, unknown>;
}

export interface GuardAuditOptions {
  file: string;
  /** Past this size the file becomes `<file>.1` (replacing an older one): disk use stays under twice this. */
  maxBytes: number;
  /** Records kept in memory for GET /api/v1/guard/audit. */
  recentLimit: number;
}

/**
 * Append-only JSON Lines under the data dir, one line per decision, written in order by one chain of
 * appends. A decision that cannot be audited fails the `record` promise, and callers refuse the operation:
 * nothing destructive happens unaudited.
 */
export class GuardAudit {
  private readonly recentRecords: GuardAuditRecord[] = [];
  private appending: Promise<void> = Promise.resolve();
  private sizeBytes = 0;

  constructor(private readonly options: GuardAuditOptions) {}

  async start(): Promise<void> {
    await mkdir(dirname(this.options.file), { recursive: true });
    this.sizeBytes = (await stat(this.options.file).catch(() => ({ size: 0 }))).size;
  }

  async stop(): Promise<void> {
    await this.appending.catch(() => undefined);
  }

  record(entry: GuardAuditRecord): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
    const next = this.appending.catch(() => undefined).then(async () => {
      const bytes = Buffer.byteLength(line);
      if (this.sizeBytes > 0 && this.sizeBytes + bytes > this.options.maxBytes) {
        await rename(this.options.file, `${this.options.file}.1`);
        this.sizeBytes = 0;
      }
      await appendFile(this.options.file, line);
      this.sizeBytes += bytes;
      this.recentRecords.push(entry);
      if (this.recentRecords.length > this.options.recentLimit) this.recentRecords.shift();
    });
    this.appending = next;
    return next;
  }

  /** Newest first. */
  recent(limit: number): GuardAuditRecord[] {
    return this.recentRecords.slice(-limit).reverse();
  }
}
