/**
 * Zipkin v2 span ingest: POST /api/v2/spans with a JSON list (`application/json`) or a proto3 ListOfSpans
 * (`application/x-protobuf`), optionally gzip. Answers like Zipkin's server: 202 Accepted, 400 with a
 * plain-text reason for a body that is not a span list, 415 for other content types, 503 when overloaded.
 */
import type { FastifyPluginAsync } from "fastify";
import type { RejectCounter } from "../../../core/telemetry/rejects.ts";
import { acceptRawBodies, mediaTypeOf } from "../raw-body-scope.ts";
import { countRefusedRequests } from "../refused-requests.ts";
import type { SpanIngestPort } from "../../ingest.ts";
import { decodeZipkinJson, decodeZipkinProto } from "./zipkin-decoder.ts";
import { toSpanInputs, ZipkinDecodeError, type ZipkinSpan } from "./zipkin-span.ts";

export interface ZipkinIngestOptions {
  ingest: SpanIngestPort;
  rejects: RejectCounter;
  maxSpansPerRequest: number;
}

const REJECT_SOURCE = "zipkin";

export function zipkinIngestRoutes(options: ZipkinIngestOptions): FastifyPluginAsync {
  const { ingest, rejects, maxSpansPerRequest } = options;
  return async (app) => {
    acceptRawBodies(app);
    countRefusedRequests(app, REJECT_SOURCE, rejects);
    app.post("/api/v2/spans", { config: { scope: "ingest" } }, async (request, reply) => {
      const mediaType = mediaTypeOf(request.headers["content-type"]);
      const isJson = mediaType === "application/json";
      if (!isJson && mediaType !== "application/x-protobuf") {
        rejects.reject(REJECT_SOURCE, "unsupported-content-type", 1, mediaType);
        return reply.code(415).type("text/plain").send(`unsupported content type "${mediaType || "(none)"}"; send application/json or application/x-protobuf`);
      }
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let result;
      try {
        const zipkinSpans: ZipkinSpan[] = isJson ? decodeZipkinJson(body.toString("utf8"), maxSpansPerRequest) : decodeZipkinProto(body, maxSpansPerRequest);
        result = ingest.ingest("zipkin", toSpanInputs(zipkinSpans));
      } catch (error) {
        if (!(error instanceof ZipkinDecodeError)) throw error;
        rejects.reject(REJECT_SOURCE, "malformed-request", 1, error.message);
        return reply.code(400).type("text/plain").send(error.message);
      }
      if (result.outcome === "overloaded") return reply.code(503).header("retry-after", "1").type("text/plain").send(result.message);
      // Acknowledged means durable: with the write-ahead buffer on, the answer waits for its fsync.
      await ingest.durable?.();
      // Zipkin's API has no partial success; rejected spans are counted and named in a header for debugging.
      if (result.rejected > 0) void reply.header("x-meshsight-rejected-spans", String(result.rejected));
      return reply.code(202).send();
    });
  };
}
