import { open, stat, type FileHandle } from "node:fs/promises";
import type { AccessLogEntry, ProxyIdentity } from "../../../core/model/access-log.ts";
import type { AccessLogIngest } from "../../ingest.ts";
import { DEFAULT_BACKPRESSURE, deliverWithBackpressure, type BackpressureOptions } from "./deliver.ts";
import { createLineParser, type LineFormatOptions } from "./formats.ts";
import { ACCESS_LOG_REJECT_SOURCE, AccessLogLineDecoder, DEFAULT_MAX_LINE_BYTES, type RejectSink } from "./line-decoder.ts";
import { expandPathPatterns } from "./path-glob.ts";
import { resolveSourceIdentity, type SourceIdentityConfig } from "./source-identity.ts";
import { loadTailState, saveTailState, type SavedOffset } from "./tail-state.ts";

export interface FileTailerOptions {
  /** Files and glob patterns (`/var/log/pods/*\/istio-proxy/*.log`), re-expanded on every poll. */
  paths: readonly string[];
  format: string;
  formatOptions?: LineFormatOptions;
  identity: SourceIdentityConfig;
  /** Where new lines go: live input, judged by the clock. */
  ingest: AccessLogIngest;
  /**
   * A new input for one file's history (what it held when tracking began), judged by the data's own time so
   * a file of any age loads whole; without it history goes to `ingest` too.
   */
  historyInput?: () => AccessLogIngest;
  rejects: RejectSink;
  /** JSON file holding the offsets, written atomically; reading resumes from it after a restart. */
  statePath: string;
  /**
   * Read size; one buffer of this size is shared by all files. Default 1 MiB: every entry of a chunk is alive
   * until the chunk is delivered, and ~3k entries stay in V8's young generation where 4 MiB's ~12k get
   * promoted (bench/access-log-parse.ts measures ~30% more lines per CPU-second at 1 MiB).
   */
  chunkBytes?: number;
  maxLineBytes?: number;
  pollIntervalMs?: number;
  stateSaveIntervalMs?: number;
  maxFiles?: number;
  /** Where to start files found at the first poll that the state file does not know; default "beginning". */
  startAt?: "beginning" | "end";
  /** Filesystem errors (permissions, I/O); the tailer keeps going. */
  onError?: (error: Error) => void;
  backpressure?: Partial<Omit<BackpressureOptions, "batchSize" | "signal">>;
}

interface TrackedFile {
  path: string;
  handle: FileHandle;
  dev: number;
  ino: number;
  /** Bytes read so far. */
  readOffset: number;
  /** Start of the first line not yet taken by ingest; what the state file stores. */
  committedOffset: number;
  decoder: AccessLogLineDecoder;
  proxy: ProxyIdentity;
  /** The file's history until it is read: the bytes before `endOffset` go to `ingest` (historyInput). */
  history: { endOffset: number; ingest: AccessLogIngest } | null;
}

/** Chunks read from one file per poll before the others get their turn. */
const CHUNKS_PER_FILE_PER_POLL = 8;

/**
 * Follows access-log files by polling (unref'd timers, so it never keeps the process alive): reads new bytes
 * in large chunks, decodes them, and hands each chunk's entries to ingest as ONE batch, so "taken" and the
 * saved offset move together and a restart never replays or skips a taken line. Handles rotation (the path
 * now names another inode: the old file is read to its end, then the new one from 0) and truncation
 * (size below the offset: restart at 0). While ingest refuses, this file waits and nothing more is read.
 * What a file held when tracking began is history, read by its own time (historyInput); what is written
 * after is live and judged by the clock, as every live stream is.
 */
export class FileTailer {
  private readonly files = new Map<string, TrackedFile>();
  private savedOffsets = new Map<string, SavedOffset>();
  private readonly buffer: Buffer;
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private cycle: Promise<void> = Promise.resolve();
  private isRunning = false;
  private isFirstPoll = true;
  private lastSaveMs = 0;
  private isStateDirty = false;

  constructor(private readonly options: FileTailerOptions) {
    this.buffer = Buffer.allocUnsafe(options.chunkBytes ?? 1024 * 1024);
    createLineParser(options.format, options.formatOptions); // a bad format fails here, at construction
  }

  async start(): Promise<void> {
    if (this.isRunning) return;
    const loaded = await loadTailState(this.options.statePath);
    if (loaded.isCorrupt) this.options.rejects.reject(ACCESS_LOG_REJECT_SOURCE, "corrupt_state_file", 1, this.options.statePath);
    this.savedOffsets = loaded.offsets;
    this.isRunning = true;
    this.schedule(0);
  }

  /** Stops polling, waits for the chunk in flight, closes the files and saves the offsets. */
  async stop(): Promise<void> {
    if (!this.isRunning) return;
    this.isRunning = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.abort.abort();
    await this.cycle;
    await this.saveState();
    await Promise.allSettled([...this.files.values()].map((file) => file.handle.close()));
    this.files.clear();
  }

  private schedule(delayMs: number): void {
    if (!this.isRunning) return;
    this.timer = setTimeout(() => {
      this.cycle = this.poll().then(
        (hasMore) => this.schedule(hasMore ? 0 : (this.options.pollIntervalMs ?? 250)),
        (error: unknown) => {
          this.options.onError?.(error as Error);
          this.schedule(this.options.pollIntervalMs ?? 250);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  /** One pass over all files; true when some file has more to read right away. */
  private async poll(): Promise<boolean> {
    const maxFiles = this.options.maxFiles ?? 1000;
    for (const path of await expandPathPatterns(this.options.paths, maxFiles)) {
      if (!this.files.has(path) && this.files.size < maxFiles) await this.guard(() => this.track(path));
    }
    this.isFirstPoll = false;
    let hasMore = false;
    for (const file of [...this.files.values()]) {
      if (!this.isRunning) break;
      hasMore = (await this.guard(() => this.follow(file))) || hasMore;
    }
    if (this.isStateDirty && Date.now() - this.lastSaveMs >= (this.options.stateSaveIntervalMs ?? 1000)) await this.saveState();
    return hasMore;
  }

  private async guard(step: () => Promise<boolean | void>): Promise<boolean> {
    try {
      return (await step()) === true;
    } catch (error) {
      this.options.onError?.(error as Error);
      return false;
    }
  }

  private async track(path: string, isReplacement = false): Promise<void> {
    const handle = await open(path, "r");
    const info = await handle.stat();
    const saved = this.savedOffsets.get(path);
    let offset = 0;
    if (saved !== undefined && saved.dev === info.dev && saved.ino === info.ino && saved.offset <= info.size) offset = saved.offset;
    else if (this.isFirstPoll && !isReplacement && this.options.startAt === "end") offset = info.size;
    const parser = createLineParser(this.options.format, this.options.formatOptions);
    const { historyInput } = this.options;
    this.files.set(path, {
      path,
      handle,
      dev: info.dev,
      ino: info.ino,
      readOffset: offset,
      committedOffset: offset,
      decoder: new AccessLogLineDecoder(parser, this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES),
      proxy: resolveSourceIdentity(this.options.identity, path),
      history: historyInput === undefined || offset >= info.size ? null : { endOffset: info.size, ingest: historyInput() },
    });
    this.markCommitted(this.files.get(path) as TrackedFile);
  }

  /** Reads what is new; then, once the open file is drained, checks for truncation and rotation. */
  private async follow(file: TrackedFile): Promise<boolean> {
    const size = (await file.handle.stat()).size;
    if (size < file.readOffset) {
      // Truncated in place (copytruncate rotation): everything now in the file is new.
      file.decoder.resetPartialLine();
      endHistory(file);
      file.readOffset = 0;
      file.committedOffset = 0;
    }
    for (let chunks = 0; chunks < CHUNKS_PER_FILE_PER_POLL; chunks++) {
      if (file.readOffset >= size) break;
      if (!(await this.readChunk(file, size))) return false;
    }
    if (file.readOffset < size) return true;
    await this.checkRotation(file);
    return false;
  }

  /** Reads, decodes and delivers one chunk; false when delivery was cut short by stop(). */
  private async readChunk(file: TrackedFile, size: number): Promise<boolean> {
    const length = Math.min(this.buffer.length, size - file.readOffset);
    const { bytesRead } = await file.handle.read(this.buffer, 0, length, file.readOffset);
    if (bytesRead === 0) return true;
    const entries: AccessLogEntry[] = [];
    file.decoder.decode(this.buffer.subarray(0, bytesRead), entries);
    if (!(await this.deliver(file, entries))) return false;
    file.readOffset += bytesRead;
    file.committedOffset = file.readOffset - file.decoder.pendingBytes;
    this.markCommitted(file);
    if (file.history !== null && file.readOffset >= file.history.endOffset) endHistory(file);
    return true;
  }

  private async deliver(file: TrackedFile, entries: AccessLogEntry[]): Promise<boolean> {
    const backpressure: BackpressureOptions = {
      ...DEFAULT_BACKPRESSURE,
      ...this.options.backpressure,
      batchSize: Number.MAX_SAFE_INTEGER, // one batch per chunk: taken and offset move together
      signal: this.abort.signal,
    };
    const ingest = file.history?.ingest ?? this.options.ingest;
    const taken = entries.length === 0 ? 0 : await deliverWithBackpressure(ingest, file.proxy, entries, backpressure);
    if (taken < entries.length) return false; // stopping: this chunk is read again after a restart
    file.decoder.tally.reportTo(this.options.rejects);
    return true;
  }

  private async checkRotation(file: TrackedFile): Promise<void> {
    let current: { dev: number; ino: number } | null;
    try {
      current = await stat(file.path);
    } catch {
      current = null; // moved away and not (yet) recreated: keep the old file open, a writer may still append
    }
    if (current === null || (current.dev === file.dev && current.ino === file.ino)) return;
    // Rotated: the old file is fully read, so its unterminated last line is complete now.
    const last: AccessLogEntry[] = [];
    file.decoder.finish(last);
    if (!(await this.deliver(file, last))) return;
    await file.handle.close();
    this.files.delete(file.path);
    this.savedOffsets.delete(file.path);
    await this.track(file.path, true);
  }

  private markCommitted(file: TrackedFile): void {
    this.savedOffsets.set(file.path, { dev: file.dev, ino: file.ino, offset: file.committedOffset });
    this.isStateDirty = true;
  }

  private async saveState(): Promise<void> {
    // Only files still followed are kept, so the state file cannot grow with every pod that ever existed.
    const offsets = new Map([...this.savedOffsets].filter(([path]) => this.files.has(path)));
    this.savedOffsets = offsets;
    await saveTailState(this.options.statePath, offsets);
    this.lastSaveMs = Date.now();
    this.isStateDirty = false;
  }
}

/** The file's history is read (or gone with a truncation): what follows is live, and the history's input is over. */
function endHistory(file: TrackedFile): void {
  file.history?.ingest.end?.();
  file.history = null;
}
