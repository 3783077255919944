import type { FastifyInstance } from "fastify";
import { Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import { createError } from "../../core/http/errors.ts";

/**
 * Makes a Fastify scope hand every request body over as raw bytes, gunzipped when the client says
 * `Content-Encoding: gzip` (OTLP/HTTP and Zipkin exporters both compress). Trace receivers decide on the
 * content type themselves, so a wrong one is their counted reject with a clear message rather than a
 * generic 415. The app's body limit applies to the decompressed bytes, so a gzip bomb stops at the limit.
 */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));
  app.addHook("preParsing", async (request, _reply, payload) => {
    const encoding = (request.headers["content-encoding"] ?? "identity").toLowerCase();
    if (encoding === "identity") return payload;
    if (encoding !== "gzip") throw createError("MS_UNSUPPORTED_CONTENT_ENCODING", { encoding, accepted: "gzip or identity" });
    // Fastify compares the bytes it read with Content-Length; it must see the compressed count.
    let receivedEncodedLength = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        receivedEncodedLength += chunk.length;
        callback(null, chunk);
      },
    });
    const gunzip = createGunzip();
    const output = Object.assign(gunzip, { receivedEncodedLength: 0 });
    counter.on("data", () => (output.receivedEncodedLength = receivedEncodedLength));
    // A corrupt gzip stream is the client's mistake: 400, not a server error.
    gunzip.on("error", (error: Error & { statusCode?: number }) => (error.statusCode = 400));
    payload.on("error", (error) => gunzip.destroy(error));
    payload.pipe(counter).pipe(gunzip);
    return output;
  });
}

/** The media type without parameters, lower case ("application/json; charset=utf-8" -> "application/json"). */
export function mediaTypeOf(header: string | undefined): string {
  return (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}
