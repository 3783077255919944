import type { IncomingMessage } from "node:http";
import { createGunzip, type Gunzip } from "node:zlib";
import { badRequest, bodyTooLarge, invalidGzip, type LogIngestError } from "./errors.ts";

export interface BodyLimits {
  /** Bytes on the wire. */
  maxCompressedBytes: number;
  /** Bytes after gunzip: the cap that defeats gzip bombs (a 1 KiB body can inflate to 1 GiB). */
  maxDecompressedBytes: number;
}

/**
 * Streams a request body (identity or gzip) into `onChunk`, enforcing both caps as bytes arrive: inflation
 * stops the moment the decompressed total passes the cap, so a bomb costs at most the cap in CPU and
 * nothing in memory. On failure the rest of the upload is drained (up to the compressed cap) rather than
 * the socket destroyed, so the client still receives the error response.
 */
export function readLogBody(request: IncomingMessage, encoding: "identity" | "gzip", limits: BodyLimits, onChunk: (chunk: Buffer) => void): Promise<void> {
  const declaredLength = Number(request.headers["content-length"] ?? Number.NaN);
  if (declaredLength > limits.maxCompressedBytes) {
    request.resume();
    return Promise.reject(bodyTooLarge(limits.maxCompressedBytes));
  }
  return new Promise((resolve, reject) => {
    let compressedBytes = 0;
    let decompressedBytes = 0;
    let isSettled = false;
    const gunzip: Gunzip | null = encoding === "gzip" ? createGunzip() : null;

    const fail = (error: LogIngestError): void => {
      if (isSettled) return;
      isSettled = true;
      gunzip?.destroy();
      request.resume();
      reject(error);
    };
    const consume = (chunk: Buffer): void => {
      if (isSettled) return;
      decompressedBytes += chunk.length;
      if (decompressedBytes > limits.maxDecompressedBytes) {
        fail(bodyTooLarge(limits.maxDecompressedBytes));
        return;
      }
      onChunk(chunk);
    };
    const succeed = (): void => {
      if (isSettled) return;
      isSettled = true;
      resolve();
    };

    request.on("data", (chunk: Buffer) => {
      compressedBytes += chunk.length;
      if (isSettled) {
        // Draining after an error: a client that keeps sending past twice the cap is cut off.
        if (compressedBytes > limits.maxCompressedBytes * 2) request.destroy();
        return;
      }
      if (compressedBytes > limits.maxCompressedBytes) {
        fail(bodyTooLarge(limits.maxCompressedBytes));
        return;
      }
      if (gunzip === null) consume(chunk);
      else if (!gunzip.write(chunk)) request.pause();
    });
    request.on("error", () => fail(badRequest("the request body could not be read")));
    request.on("aborted", () => fail(badRequest("the client aborted the upload")));
    if (gunzip === null) {
      request.on("end", succeed);
      return;
    }
    request.on("end", () => {
      if (!isSettled) gunzip.end();
    });
    gunzip.on("drain", () => {
      if (!isSettled) request.resume();
    });
    gunzip.on("data", consume);
    gunzip.on("end", succeed);
    gunzip.on("error", (error: Error) => fail(invalidGzip(error.message)));
  });
}
