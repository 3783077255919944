import { readTextIfExists, writeTextAtomically } from "../../core/files/text-file.ts";
import type { AlertRecord } from "./alert-book.ts";
import type { AlertStateStore } from "./alert-state-store.ts";
import type { Silence } from "./silences.ts";

/**
 * Alerts and silences survive restarts in one JSON file, replaced atomically (write a temp file, then
 * rename) so a crash mid-write leaves the previous state, never half a file.
 */

export interface AlertState {
  alerts: AlertRecord[];
  silences: Silence[];
}

const FORMAT_VERSION = 1;

export class AlertStateFile implements AlertStateStore {
  readonly isShared = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly path: string) {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {
    await this.writing.catch(() => undefined);
  }

  /** The saved state; empty when the file does not exist yet. A corrupt file is an error (not silently dropped). */
  async load(): Promise<AlertState> {
    const text = await readTextIfExists(this.path);
    if (text === undefined) return { alerts: [], silences: [] };
    const parsed = JSON.parse(text) as Partial<AlertState> & { version?: number };
    if (parsed.version !== FORMAT_VERSION || !Array.isArray(parsed.alerts) || !Array.isArray(parsed.silences)) {
      throw new Error(`${this.path}: not an alert state file of version ${FORMAT_VERSION}`);
    }
    return { alerts: parsed.alerts, silences: parsed.silences };
  }

  /** Saves both halves (one file); calls are serialized so an older state never overwrites a newer one. */
  save(state: AlertState): Promise<void> {
    const text = JSON.stringify({ version: FORMAT_VERSION, ...state });
    this.writing = this.writing.catch(() => undefined).then(() => writeTextAtomically(this.path, text));
    return this.writing;
  }
}
