import { isAscii, isUtf8 } from "node:buffer";
import type { LineRejectReason } from "./entry.ts";

/**
 * Receives what the splitter finds: each complete non-blank line or why one was dropped. A line is
 * `text[start, end)` without its newline; `text` may hold the lines around it too, so anything cut from it
 * that outlives the call must be copied (field-values.ts, detachedSlice), or it keeps the whole text alive.
 */
export interface LineSink {
  line(text: string, start: number, end: number): void;
  reject(reason: LineRejectReason): void;
}

const NEWLINE = 10;
/** Bytes of lines decoded into one string at most (unless one line is longer). */
const BLOCK_BYTES = 64 * 1024;
const CARRIAGE_RETURN = 13;
const SPACE = 32;
const TAB = 9;

const enum Decoding {
  /** The region is ASCII: latin1 decoding is exact and the cheapest. */
  Ascii,
  /** The region is valid UTF-8 as a whole, so every line in it is. */
  Utf8,
  /** Some line in the region is not UTF-8: check each one and reject the bad ones only. */
  CheckEachLine,
}

/**
 * Splits large byte chunks into lines. The encoding is validated once per chunk (per line only when the
 * chunk has invalid UTF-8). An ASCII region, the common case, is decoded once and its lines are handed over
 * as ranges of that string; other lines are decoded one by one.
 *
 * A line longer than `maxLineBytes` is rejected as `line_too_long` without being decoded or kept: the
 * partial-line carry stops growing at the cap and the rest of that line is skipped up to its newline.
 */
export class LineSplitter {
  private carry: Buffer | null = null;
  private isSkippingLongLine = false;

  constructor(private readonly maxLineBytes: number) {
    if (!(maxLineBytes > 0)) throw new Error("maxLineBytes must be positive");
  }

  /** Bytes held for an unfinished last line (so a tailer can save an offset at a line boundary). */
  get pendingBytes(): number {
    return this.carry?.length ?? 0;
  }

  /** Feeds a chunk; the chunk may be reused by the caller afterwards (the carry is a copy). */
  push(chunk: Buffer, sink: LineSink): void {
    let position = 0;
    if (this.carry !== null || this.isSkippingLongLine) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        this.keepUnfinished(chunk, 0);
        return;
      }
      this.finishCarriedLine(chunk, newline, sink);
      position = newline + 1;
    }
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline >= position) {
      const region = chunk.subarray(position, lastNewline);
      const decoding = isAscii(region) ? Decoding.Ascii : isUtf8(region) ? Decoding.Utf8 : Decoding.CheckEachLine;
      if (decoding === Decoding.Ascii) {
        this.emitAsciiLines(chunk, position, lastNewline, sink);
        position = lastNewline + 1;
      }
      while (position <= lastNewline) {
        const newline = chunk.indexOf(NEWLINE, position);
        this.emit(chunk, position, newline, decoding, sink);
        position = newline + 1;
      }
    }
    if (position < chunk.length) this.keepUnfinished(chunk, position);
  }

  /** End of input: an unterminated last line is still a line (stdin, HTTP bodies). */
  end(sink: LineSink): void {
    if (this.isSkippingLongLine) sink.reject("line_too_long");
    else if (this.carry !== null) this.emit(this.carry, 0, this.carry.length, Decoding.CheckEachLine, sink);
    this.reset();
  }

  /** Forgets any unfinished line (after a file was truncated or replaced). */
  reset(): void {
    this.carry = null;
    this.isSkippingLongLine = false;
  }

  private finishCarriedLine(chunk: Buffer, newline: number, sink: LineSink): void {
    const carry = this.carry;
    const wasSkipping = this.isSkippingLongLine;
    this.reset();
    if (wasSkipping || carry === null || carry.length + newline > this.maxLineBytes) {
      sink.reject("line_too_long");
      return;
    }
    const line = Buffer.concat([carry, chunk.subarray(0, newline)]);
    this.emit(line, 0, line.length, Decoding.CheckEachLine, sink);
  }

  private keepUnfinished(chunk: Buffer, from: number): void {
    if (this.isSkippingLongLine) return;
    const carriedLength = (this.carry?.length ?? 0) + chunk.length - from;
    if (carriedLength > this.maxLineBytes) {
      this.carry = null;
      this.isSkippingLongLine = true;
      return;
    }
    const rest = chunk.subarray(from);
    this.carry = this.carry === null ? Buffer.from(rest) : Buffer.concat([this.carry, rest]);
  }

  /**
   * The complete lines of `chunk[from, lastNewline]`, decoded in blocks of about BLOCK_BYTES that end at a
   * line end: a tailer's 1 MiB read is not one string, so a value copied too late would keep 64 KiB alive,
   * not the whole read.
   */
  private emitAsciiLines(chunk: Buffer, from: number, lastNewline: number, sink: LineSink): void {
    let position = from;
    while (position <= lastNewline) {
      let blockEnd = lastNewline;
      if (lastNewline - position >= BLOCK_BYTES) {
        const newline = chunk.lastIndexOf(NEWLINE, position + BLOCK_BYTES - 1);
        // A line longer than a block makes a block of its own (the length cap then rejects it or not).
        blockEnd = newline >= position ? newline : chunk.indexOf(NEWLINE, position + BLOCK_BYTES);
      }
      this.emitAsciiRegion(chunk.toString("latin1", position, blockEnd + 1), sink);
      position = blockEnd + 1;
    }
  }

  /**
   * The lines of an ASCII region, decoded as one string and handed over as ranges of it: one decode per
   * region instead of one per line (a native call each, ~5 % of the access-log path). In ASCII a character
   * is a byte, so the length cap holds as it does on bytes.
   */
  private emitAsciiRegion(text: string, sink: LineSink): void {
    let start = 0;
    while (start < text.length) {
      const newline = text.indexOf("\n", start);
      let end = newline;
      if (end > start && text.charCodeAt(end - 1) === CARRIAGE_RETURN) end--;
      // As emit: a blank line is skipped whatever its length.
      if (isBlankText(text, start, end)) {
        // nothing to hand over
      } else if (end - start > this.maxLineBytes) sink.reject("line_too_long");
      else sink.line(text, start, end);
      start = newline + 1;
    }
  }

  private emit(buffer: Buffer, start: number, end: number, decoding: Decoding, sink: LineSink): void {
    if (end > start && buffer[end - 1] === CARRIAGE_RETURN) end--;
    // A blank line holds no record to lose: skipped, neither a line nor a reject.
    if (isBlank(buffer, start, end)) return;
    if (end - start > this.maxLineBytes) {
      sink.reject("line_too_long");
      return;
    }
    // ASCII regions never come here (emitAsciiLines): a line here is UTF-8 as a whole region, or is checked.
    if (decoding === Decoding.Utf8 || isUtf8(buffer.subarray(start, end))) {
      const text = buffer.toString("utf8", start, end);
      sink.line(text, 0, text.length);
    } else {
      sink.reject("invalid_utf8");
    }
  }
}

function isBlankText(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code !== SPACE && code !== TAB) return false;
  }
  return true;
}

function isBlank(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = buffer[i];
    if (byte !== SPACE && byte !== TAB) return false;
  }
  return true;
}
