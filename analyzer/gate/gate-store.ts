import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** A manual decision on a gate: force pass (`open`) or fail (`close`) until it expires. */
export interface GateOverride {
  gate: string;
  action: "open" | "close";
  reason: string;
  /** The token name that set it. */
  by: string;
  createdAtMs: number;
  expiresAtMs: number;
}

/** What survives a restart: gates defined through the API (raw, re-validated on load) and overrides. */
export interface StoredGates {
  gates: unknown[];
  overrides: GateOverride[];
}

/**
 * One JSON file under the data dir, rewritten whole through a temp file + rename so a crash mid-write
 * leaves the previous version. Gates and overrides are few (bounded by gates.maxGates), so rewriting
 * is cheap; replicas that must share them use gate files instead (docs/gating.md).
 */
export class JsonGateStore {
  /** Serializes writes: two PUTs at once must not interleave their renames. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  async load(): Promise<StoredGates> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { gates: [], overrides: [] };
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<StoredGates> | null;
    if (typeof parsed !== "object" || parsed === null || !Array.isArray(parsed.gates) || !Array.isArray(parsed.overrides)) {
      throw new Error(`${this.file}: expected {"gates": [...], "overrides": [...]}`);
    }
    return { gates: parsed.gates, overrides: parsed.overrides };
  }

  save(state: StoredGates): Promise<void> {
    const text = `${JSON.stringify(state, null, 2)}\n`;
    const next = this.writing.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(temp, text);
      await rename(temp, this.file);
    });
    // A failed write must not poison the next one; the caller still sees this one's error.
    this.writing = next.catch(() => undefined);
    return next;
  }
}
