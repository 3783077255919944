import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { createBrotliDecompress, createGunzip, createInflateRaw } from "node:zlib";

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
      resolve({ body: Buffer.concat(kept), bodyBytes, bodyTruncated: bodyBytes > keptBytes, problem });
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
  const stream = compression === "gzip" ? createGunzip() : compression === "br" ? createBrotliDecompress() : createInflateRaw();
  stream.on("error", onDecodeError);
  return response.pipe(stream);
}
