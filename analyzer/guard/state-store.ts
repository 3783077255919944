import { readTextIfExists, SerialFileWriter } from "../../core/files/text-file.ts";

/** What a change function returns: the new value (undefined deletes the key), its lifetime, and the caller's answer. */
export interface StateChange<R> {
  next: unknown;
  /** Forget the key after this long (an idle bucket is full again anyway); undefined keeps it. */
  ttlMs?: number;
  result: R;
}

/**
 * Where the guard keeps buckets, trips and recent acts. `update` is an atomic read-modify-write of one key,
 * so replicas sharing Redis never both spend the last token; its `change` may run more than once when
 * another writer got there first, so it must be a pure function of the value it is given.
 */
export interface GuardStateStore {
  update<R>(key: string, change: (current: unknown) => StateChange<R>): Promise<R>;
  get(key: string): Promise<unknown>;
  /** Keys starting with `prefix`, at most `max` of them. */
  list(prefix: string, max: number): Promise<Array<{ key: string; value: unknown }>>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The store is full of keys that must not be forgotten (trips); the guard refuses rather than lose one. */
export class GuardStateFullError extends Error {
  override readonly name = "GuardStateFullError";
}

interface StoredEntry {
  value: unknown;
  expiresAtMs?: number;
}

export interface FileStateStoreOptions {
  file: string;
  maxKeys: number;
  now: () => number;
}

/**
 * One replica's state in a JSON file under the data dir, written (temp file + rename, so a crash leaves the
 * old or the new file, never half of one) before `update` resolves: a decision is on disk before it is acted on.
 */
export class FileGuardStateStore implements GuardStateStore {
  private readonly entries = new Map<string, StoredEntry>();
  private readonly writer: SerialFileWriter;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly options: FileStateStoreOptions) {
    this.writer = new SerialFileWriter(options.file);
  }

  async start(): Promise<void> {
    const text = await readTextIfExists(this.options.file);
    if (text === undefined) return;
    const parsed = JSON.parse(text) as { entries?: Record<string, StoredEntry> };
    for (const [key, entry] of Object.entries(parsed.entries ?? {})) this.entries.set(key, entry);
  }

  async stop(): Promise<void> {
    await this.saving;
  }

  async update<R>(key: string, change: (current: unknown) => StateChange<R>): Promise<R> {
    const outcome = change(this.live(key)?.value);
    if (outcome.next === undefined) this.entries.delete(key);
    else {
      if (!this.entries.has(key)) this.makeRoom();
      this.entries.set(key, { value: outcome.next, ...(outcome.ttlMs === undefined ? {} : { expiresAtMs: this.options.now() + outcome.ttlMs }) });
    }
    await this.save();
    return outcome.result;
  }

  async get(key: string): Promise<unknown> {
    return this.live(key)?.value;
  }

  async list(prefix: string, max: number): Promise<Array<{ key: string; value: unknown }>> {
    const found: Array<{ key: string; value: unknown }> = [];
    for (const key of this.entries.keys()) {
      const entry = this.live(key);
      if (entry && key.startsWith(prefix)) found.push({ key, value: entry.value });
      if (found.length >= max) break;
    }
    return found;
  }

  private live(key: string): StoredEntry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAtMs !== undefined && entry.expiresAtMs <= this.options.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Expired keys go first, then the ones closest to expiry; keys without expiry (trips) are never dropped. */
  private makeRoom(): void {
    if (this.entries.size < this.options.maxKeys) return;
    for (const key of [...this.entries.keys()]) this.live(key);
    if (this.entries.size < this.options.maxKeys) return;
    let victim: [string, number] | undefined;
    for (const [key, entry] of this.entries) {
      if (entry.expiresAtMs !== undefined && (victim === undefined || entry.expiresAtMs < victim[1])) victim = [key, entry.expiresAtMs];
    }
    if (!victim) throw new GuardStateFullError(`the guard state holds ${this.options.maxKeys} keys that cannot be forgotten; reset trips or raise the limit`);
    this.entries.delete(victim[0]);
  }

  /** Saves are chained so two never interleave; each writes the state as it is when its turn comes. */
  private save(): Promise<void> {
    this.saving = this.writer.write(() => JSON.stringify({ entries: Object.fromEntries(this.entries) }));
    return this.saving;
  }
}
