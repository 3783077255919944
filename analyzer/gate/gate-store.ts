import { readTextIfExists, SerialFileWriter } from "../../core/files/text-file.ts";

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
  /** Two PUTs at once must not interleave their writes. */
  private readonly writer: SerialFileWriter;

  constructor(private readonly file: string) {
    this.writer = new SerialFileWriter(file);
  }

  async load(): Promise<StoredGates> {
    const text = await readTextIfExists(this.file);
    if (text === undefined) return { gates: [], overrides: [] };
    const parsed = JSON.parse(text) as Partial<StoredGates> | null;
    if (typeof parsed !== "object" || parsed === null || !Array.isArray(parsed.gates) || !Array.isArray(parsed.overrides)) {
      throw new Error(`${this.file}: expected {"gates": [...], "overrides": [...]}`);
    }
    return { gates: parsed.gates, overrides: parsed.overrides };
  }

  save(state: StoredGates): Promise<void> {
    return this.writer.write(`${JSON.stringify(state, null, 2)}\n`);
  }
}
