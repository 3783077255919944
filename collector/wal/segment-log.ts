import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";

/**
 * An append-only log of records in numbered segment files, the storage half of the write-ahead buffer
 * (docs/deploy.md, "Crash recovery"). Records are framed as [length u32][crc32 u32][payload], little
 * endian, so a torn tail (power loss mid-write) is detected instead of read as data.
 *
 * Records appended in one event-loop turn reach the kernel with one write(2) at its end; from then on they
 * survive the process being killed. fsync(2), which only an OS crash or power loss needs, is grouped:
 * every `syncIntervalMs`, or at once for a caller that awaits `sync()` before acknowledging.
 */
export interface SegmentLogOptions {
  dir: string;
  /** The log refuses appends (backpressure) while its segments hold this many bytes. */
  maxBytes: number;
  /** A segment is closed and a new one started once it holds this many bytes. */
  segmentBytes: number;
  syncIntervalMs: number;
}

/** A segment left by an earlier process, to replay. */
export interface StoredSegment {
  number: number;
  path: string;
}

/** What reading a segment found: whole records, and whether a torn or corrupt record cut it short. */
export interface SegmentRecords {
  records: Buffer[];
  isCutShort: boolean;
}

const HEADER_BYTES = 8;
const SEGMENT_NAME = /^(\d{12})\.wal$/;

function segmentName(number: number): string {
  return `${String(number).padStart(12, "0")}.wal`;
}

export class SegmentLog {
  private readonly segmentSizes = new Map<number, number>();
  private totalBytes = 0;
  private liveNumber = 0;
  private liveFd = -1;
  private unsyncedBytes = 0;
  /** Record bytes appended in this event-loop turn, written together at its end. */
  private unwritten: Buffer[] = [];
  private unwrittenBytes = 0;
  private isWriteScheduled = false;
  private syncInFlight: Promise<void> = Promise.resolve();
  private queuedSync: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: SegmentLogOptions) {
    for (const name of ["maxBytes", "segmentBytes", "syncIntervalMs"] as const) {
      if (!(options[name] >= 1)) throw new RangeError(`SegmentLog: ${name} must be >= 1, got ${options[name]}`);
    }
  }

  /**
   * Opens the directory: returns the segments an earlier process left (oldest first), which stay on disk
   * until committed, and starts a new live segment after them. Segments numbered <= `committedThrough` were
   * committed before the earlier process could delete them (their content is journaled): they go now.
   */
  open(committedThrough = 0): StoredSegment[] {
    mkdirSync(this.options.dir, { recursive: true });
    const stored: StoredSegment[] = [];
    for (const name of readdirSync(this.options.dir)) {
      const match = SEGMENT_NAME.exec(name);
      if (match?.[1] === undefined) continue;
      const path = join(this.options.dir, name);
      const number = Number(match[1]);
      if (number <= committedThrough) {
        unlinkSync(path);
        continue;
      }
      const size = statSync(path).size;
      this.segmentSizes.set(number, size);
      this.totalBytes += size;
      stored.push({ number, path });
    }
    stored.sort((a, b) => a.number - b.number);
    this.startSegment((stored.at(-1)?.number ?? 0) + 1);
    this.timer = setInterval(() => void this.sync(), this.options.syncIntervalMs).unref();
    return stored;
  }

  /** Bytes held in segments, live one included. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** True while appends are refused: the segments are at their bound until a commit frees some. */
  isFull(): boolean {
    return this.totalBytes >= this.options.maxBytes;
  }

  /** Number of the segment appends go to now. */
  get liveSegment(): number {
    return this.liveNumber;
  }

  /**
   * Appends one record made of `parts`; false (nothing taken) when the log is full. Records appended in one
   * event-loop turn are written together with one write(2) right after it (or earlier by seal, sync or a
   * full segment), so the hot path pays a copy per record and a system call per turn, not per record.
   */
  append(parts: readonly Buffer[]): boolean {
    if (this.isFull()) return false;
    let length = 0;
    let checksum = 0;
    for (const part of parts) {
      length += part.length;
      checksum = crc32(part, checksum);
    }
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32LE(length, 0);
    header.writeUInt32LE(checksum, 4);
    this.unwritten.push(header, ...parts);
    const frameBytes = HEADER_BYTES + length;
    this.totalBytes += frameBytes;
    this.unwrittenBytes += frameBytes;
    const size = (this.segmentSizes.get(this.liveNumber) ?? 0) + frameBytes;
    this.segmentSizes.set(this.liveNumber, size);
    if (size >= this.options.segmentBytes) this.rotate();
    else if (!this.isWriteScheduled) {
      this.isWriteScheduled = true;
      setImmediate(() => this.writeUnwritten());
    }
    return true;
  }

  /**
   * Closes the live segment when it holds anything, so every record appended so far lies in segments
   * numbered <= the returned one; the next appends go to a new segment.
   */
  seal(): number {
    this.writeUnwritten();
    if ((this.segmentSizes.get(this.liveNumber) ?? 0) > 0) this.rotate();
    return this.liveNumber - 1;
  }

  /** Deletes every closed segment numbered <= `through`: what they held is in storage now. */
  commit(through: number): void {
    for (const [number, size] of this.segmentSizes) {
      if (number > through || number === this.liveNumber) continue;
      unlinkSync(join(this.options.dir, segmentName(number)));
      this.segmentSizes.delete(number);
      this.totalBytes -= size;
    }
  }

  /** Resolves once everything appended before the call is on disk (fsync), sharing one fsync among callers. */
  sync(): Promise<void> {
    this.writeUnwritten();
    if (this.unsyncedBytes === 0) return this.queuedSync ?? this.syncInFlight;
    this.queuedSync ??= this.syncInFlight.then(() => {
      this.queuedSync = null;
      this.syncInFlight = this.fsyncLive();
      return this.syncInFlight;
    });
    return this.queuedSync;
  }

  /** Syncs and closes the live segment; the segments stay for the next start when not committed. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.liveFd < 0) return;
    this.writeUnwritten();
    fdatasyncSync(this.liveFd);
    const fd = this.liveFd;
    this.liveFd = -1;
    void this.syncInFlight.finally(() => closeSync(fd));
    if ((this.segmentSizes.get(this.liveNumber) ?? 0) === 0) this.commitEmptyLive();
  }

  private writeUnwritten(): void {
    this.isWriteScheduled = false;
    if (this.unwrittenBytes === 0 || this.liveFd < 0) return;
    const bytes = Buffer.concat(this.unwritten, this.unwrittenBytes);
    this.unwritten = [];
    this.unsyncedBytes += this.unwrittenBytes;
    this.unwrittenBytes = 0;
    let written = 0;
    // A regular file takes the whole write at once in practice; finish a short one rather than tear a record.
    while (written < bytes.length) written += writeSync(this.liveFd, bytes, written);
  }

  private fsyncLive(): Promise<void> {
    const fd = this.liveFd;
    this.unsyncedBytes = 0;
    if (fd < 0) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(fd, (error) => (error === null ? resolve() : reject(error))));
  }

  /** Closes the live segment (synced, so a later fsync of the new one covers everything) and opens the next. */
  private rotate(): void {
    this.writeUnwritten();
    const fd = this.liveFd;
    fdatasyncSync(fd);
    this.unsyncedBytes = 0;
    // An fsync of this descriptor may still be running on the thread pool: close it only after.
    void this.syncInFlight.finally(() => closeSync(fd));
    this.startSegment(this.liveNumber + 1);
  }

  private startSegment(number: number): void {
    this.liveNumber = number;
    this.liveFd = openSync(join(this.options.dir, segmentName(number)), "a");
    this.segmentSizes.set(number, 0);
  }

  private commitEmptyLive(): void {
    unlinkSync(join(this.options.dir, segmentName(this.liveNumber)));
    this.segmentSizes.delete(this.liveNumber);
  }
}

/** Reads a segment's whole records; stops at the first torn or corrupt one (nothing after it can be framed). */
export function readSegment(path: string): SegmentRecords {
  const bytes = readFileSync(path);
  const records: Buffer[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32LE(offset);
    const end = offset + HEADER_BYTES + length;
    if (end > bytes.length) break;
    const payload = bytes.subarray(offset + HEADER_BYTES, end);
    if (crc32(payload) !== bytes.readUInt32LE(offset + 4)) break;
    records.push(payload);
    offset = end;
  }
  return { records, isCutShort: offset !== bytes.length };
}
