import { readTextIfExists, SerialFileWriter } from "../files/text-file.ts";
import {
  checkStateKey,
  encodeStateValue,
  StateFullError,
  type CompareAndSetResult,
  type StateEntry,
  type StateLimits,
  type StateStore,
  type StateWriteOptions,
} from "./port.ts";

interface StoredEntry {
  value: unknown;
  version: number;
  expiresAtMs?: number;
}

const FORMAT = "meshsight-state";

export interface FileStateOptions {
  file: string;
  limits: StateLimits;
  now: () => number;
  /** Reads an older file format at `file` (StateNamespaceOptions.legacy). */
  legacy?: (parsed: unknown) => Record<string, unknown> | undefined;
}

/**
 * One process's namespace in a JSON file, rewritten whole (temp file + rename, so a crash leaves the old or
 * the new file, never half of one) before a write resolves: what a caller was told is on disk. Namespaces are
 * small (bounded by maxKeys and maxValueBytes), so rewriting is cheap.
 */
export class FileStateStore implements StateStore {
  readonly isShared = false;
  private readonly entries = new Map<string, StoredEntry>();
  private readonly writer: SerialFileWriter;
  private currentRevision = 0;

  constructor(private readonly options: FileStateOptions) {
    this.writer = new SerialFileWriter(options.file);
  }

  async start(): Promise<void> {
    const text = await readTextIfExists(this.options.file);
    if (text === undefined) return;
    const parsed = JSON.parse(text) as unknown;
    if (isStateFile(parsed)) {
      this.currentRevision = parsed.revision;
      for (const [key, entry] of Object.entries(parsed.entries)) this.entries.set(key, entry);
      return;
    }
    const legacy = this.options.legacy?.(parsed);
    if (legacy === undefined) throw new Error(`${this.options.file}: not a meshsight state file`);
    for (const [key, value] of Object.entries(legacy)) this.entries.set(key, { value, version: ++this.currentRevision });
    await this.save();
  }

  async stop(): Promise<void> {
    await this.writer.write(() => this.text()).catch(() => undefined);
  }

  async get(key: string): Promise<StateEntry | undefined> {
    const entry = this.live(key);
    return entry && { value: entry.value, version: entry.version };
  }

  async put(key: string, value: unknown, options: StateWriteOptions = {}): Promise<number> {
    return this.write(key, value, options);
  }

  /** The check and the change happen in one synchronous step, so racing callers in this process never both win. */
  async compareAndSet(key: string, expected: number, next: unknown, options: StateWriteOptions = {}): Promise<CompareAndSetResult> {
    checkStateKey(key);
    const current = this.live(key);
    if ((current?.version ?? 0) !== expected) return { isSet: false, current: current && { value: current.value, version: current.version } };
    if (next === undefined) {
      if (current === undefined) return { isSet: true, version: 0 };
      const deleting = this.delete(key);
      const version = this.currentRevision;
      await deleting;
      return { isSet: true, version };
    }
    return { isSet: true, version: await this.write(key, next, options) };
  }

  async delete(key: string): Promise<boolean> {
    if (!this.live(key)) return false;
    this.entries.delete(key);
    this.currentRevision++;
    await this.save();
    return true;
  }

  async list(prefix: string, max: number): Promise<Array<{ key: string } & StateEntry>> {
    const found: Array<{ key: string } & StateEntry> = [];
    for (const key of [...this.entries.keys()]) {
      if (found.length >= max) break;
      const entry = key.startsWith(prefix) ? this.live(key) : undefined;
      if (entry) found.push({ key, value: entry.value, version: entry.version });
    }
    return found;
  }

  async revision(): Promise<number> {
    return this.currentRevision;
  }

  private async write(key: string, value: unknown, options: StateWriteOptions): Promise<number> {
    checkStateKey(key);
    // Stored as parsed JSON, so what is read back is what a shared store would return.
    const stored = JSON.parse(encodeStateValue(key, value, this.options.limits.maxValueBytes)) as unknown;
    if (!this.live(key)) this.makeRoom();
    const version = ++this.currentRevision;
    const entry: StoredEntry = { value: stored, version };
    if (options.ttlMs !== undefined) entry.expiresAtMs = this.options.now() + options.ttlMs;
    this.entries.set(key, entry);
    await this.save();
    return version;
  }

  private live(key: string): StoredEntry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAtMs !== undefined && entry.expiresAtMs <= this.options.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Expired keys go first, then the one closest to expiry; keys without expiry are never dropped. */
  private makeRoom(): void {
    if (this.entries.size < this.options.limits.maxKeys) return;
    for (const key of [...this.entries.keys()]) this.live(key);
    if (this.entries.size < this.options.limits.maxKeys) return;
    let victim: [string, number] | undefined;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAtMs !== undefined && (victim === undefined || entry.expiresAtMs < victim[1])) victim = [key, entry.expiresAtMs];
    }
    if (!victim) throw new StateFullError(`${this.options.file} holds ${this.options.limits.maxKeys} keys that cannot be forgotten`);
    this.entries.delete(victim[0]);
  }

  private text(): string {
    return JSON.stringify({ format: FORMAT, revision: this.currentRevision, entries: Object.fromEntries(this.entries) });
  }

  /** Writes are chained so two never interleave; each writes the state as it is when its turn comes. */
  private save(): Promise<void> {
    return this.writer.write(() => this.text());
  }
}

function isStateFile(parsed: unknown): parsed is { revision: number; entries: Record<string, StoredEntry> } {
  if (typeof parsed !== "object" || parsed === null) return false;
  const file = parsed as { format?: unknown; revision?: unknown; entries?: unknown };
  return file.format === FORMAT && typeof file.revision === "number" && typeof file.entries === "object" && file.entries !== null;
}
