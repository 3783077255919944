import type { IncomingMessage } from "node:http";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflateRaw, type Gunzip } from "node:zlib";

/**
 * The encodings blackbox_exporter's `compression` names (prober/http.go getDecompressionReader): its
 * `deflate` is Go's compress/flate, raw DEFLATE without a zlib header, so it is inflated raw here too.
 */
export const COMPRESSIONS = ["gzip", "br", "deflate", "identity"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export interface BodyLimits {
  /** Body bytes kept for matching; the rest is read and counted but not kept. */
  maxBodyBytes: number;
  /** Decode the body this way whatever Content-Encoding says, as blackbox does; undefined reads it as sent. */
  compression: Compression | undefined;
  /** More (decoded) bytes than this fail the read, as blackbox's body_size_limit does; undefined is no limit. */
  bodySizeLimit: number | undefined;
}

export interface BodyRead {
  body: Buffer;
  /** Decoded bytes read: all of them, or exactly bodySizeLimit when the body was larger (Go's MaxBytesReader hands on that many). */
  bodyBytes: number;
  bodyTruncated: boolean;
  /** Why the body could not be read as the spec asks (too large, not in the expected encoding); "" when it could. */
  problem: string;
  /**
   * The decoder refused the body's start (a gzip header that is not one), so it was read as sent: Go's
   * gzip.NewReader reads the header before blackbox's body checks run, and then they do not run.
   */
  isRefusedByDecoder: boolean;
}

/**
 * Reads a response body, decoded and bounded as the spec says. A body that is too large or does not
 * decode resolves with `problem` (the target answered, wrongly); a broken connection rejects.
 */
export function readBody(response: IncomingMessage, limits: BodyLimits): Promise<BodyRead> {
  return new Promise<BodyRead>((resolve, reject) => {
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let bodyBytes = 0;
    let settled = false;
    const finish = (problem: string) => {
      if (settled) return;
      settled = true;
      const refused = gzipHeaderRefusal(decoded);
      resolve({ body: Buffer.concat(kept), bodyBytes, bodyTruncated: bodyBytes > keptBytes, problem: refused === "" ? problem : `the body is not gzip-encoded (compression: gzip): ${refused}`, isRefusedByDecoder: refused !== "" });
    };
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const decoded = decoder(response, limits.compression, (error) => {
      finish(`the body is not ${limits.compression}-encoded (compression: ${limits.compression}): ${error.message}`);
      response.destroy();
    });
    decoded.on("data", (chunk: Buffer) => {
      if (settled) return;
      const limit = limits.bodySizeLimit;
      if (limit !== undefined && bodyBytes + chunk.length > limit) {
        keep(chunk.subarray(0, limit - bodyBytes));
        bodyBytes = limit;
        // Settled first: destroying the response may report the cut-off body as an error at once.
        finish(`the body is larger than body_size_limit ${limit} bytes`);
        response.destroy();
        return;
      }
      bodyBytes += chunk.length;
      keep(chunk);
    });
    const keep = (chunk: Buffer) => {
      if (keptBytes >= limits.maxBodyBytes) return;
      const slice = chunk.subarray(0, limits.maxBodyBytes - keptBytes);
      kept.push(slice);
      keptBytes += slice.length;
    };
    response.on("error", fail);
    response.on("aborted", () => fail(new Error("the server closed the connection before the body ended")));
    decoded.on("end", () => finish(""));
  });
}

function decoder(response: IncomingMessage, compression: Compression | undefined, onDecodeError: (error: Error) => void): Readable {
  if (compression === undefined || compression === "identity") return response;
  const stream = compression === "gzip" ? new GzipBody() : compression === "br" ? createBrotliDecompress() : createInflateRaw();
  stream.on("error", onDecodeError);
  return response.pipe(stream);
}

function gzipHeaderRefusal(stream: Readable): string {
  return stream instanceof GzipBody ? stream.refusal : "";
}

/**
 * A gzip body as Go reads it: gzip.NewReader first reads the whole header (magic, method, the optional
 * extra field, name and comment, each string under 512 bytes), and a header that is not one is refused
 * before any body byte is decoded; blackbox then reads the body as sent. So here: the header is checked
 * as Go checks it, then the body is gunzipped, or passed on as sent with `refusal` saying why.
 */
class GzipBody extends Transform {
  /** Go's error for a refused header ("gzip: invalid header", "unexpected EOF"); "" while none. */
  refusal = "";
  private pending: Buffer[] = [];
  private gunzip: Gunzip | undefined;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.gunzip) {
      this.gunzip.write(chunk, () => done());
      return;
    }
    if (this.refusal !== "") {
      done(null, chunk);
      return;
    }
    this.pending.push(chunk);
    const head = Buffer.concat(this.pending);
    const header = gzipHeader(head);
    if (header === "incomplete") return done();
    this.pending = [];
    if (header !== "valid") {
      this.refusal = header.refusal;
      done(null, head);
      return;
    }
    const gunzip = createGunzip();
    gunzip.on("data", (decoded: Buffer) => this.push(decoded));
    gunzip.on("error", (error) => this.destroy(error));
    this.gunzip = gunzip;
    gunzip.write(head, () => done());
  }

  override _flush(done: TransformCallback): void {
    const gunzip = this.gunzip;
    if (gunzip) {
      gunzip.once("end", () => done());
      gunzip.end();
      return;
    }
    if (this.refusal === "") {
      // Go's io.ReadFull of the header: nothing at all is EOF, part of it unexpected EOF.
      const head = Buffer.concat(this.pending);
      this.refusal = head.length === 0 ? "EOF" : "unexpected EOF";
      done(null, head);
      return;
    }
    done();
  }
}

const GZIP_FLAG_EXTRA = 4;
const GZIP_FLAG_NAME = 8;
const GZIP_FLAG_COMMENT = 16;
/** Go reads the name and the comment into a 512-byte buffer; a longer one is an invalid header. */
const GZIP_MAX_STRING = 512;

/** Whether `head` starts with a whole gzip header as Go's compress/gzip reads one (RFC 1952 2.3). */
function gzipHeader(head: Buffer): "valid" | "incomplete" | { refusal: string } {
  const invalid = { refusal: "gzip: invalid header" };
  if (head.length < 10) return "incomplete";
  if (head[0] !== 0x1f || head[1] !== 0x8b || head[2] !== 8) return invalid;
  const flags = head[3]!;
  let offset = 10;
  if (flags & GZIP_FLAG_EXTRA) {
    if (head.length < offset + 2) return "incomplete";
    offset += 2 + head.readUInt16LE(offset);
    if (head.length < offset) return "incomplete";
  }
  for (const flag of [GZIP_FLAG_NAME, GZIP_FLAG_COMMENT]) {
    if (!(flags & flag)) continue;
    const end = head.indexOf(0, offset);
    if (end === -1) return head.length - offset >= GZIP_MAX_STRING ? invalid : "incomplete";
    if (end - offset >= GZIP_MAX_STRING) return invalid;
    offset = end + 1;
  }
  return "valid";
}
