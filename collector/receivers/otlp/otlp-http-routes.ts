/**
 * OTLP/HTTP trace receiver: POST /v1/traces with `application/x-protobuf` or `application/json`, optionally
 * gzip. Answers per https://opentelemetry.io/docs/specs/otlp/#otlphttp-response: 200 with an
 * ExportTraceServiceResponse (partial_success when spans were rejected) in the request's encoding, 400
 * with a google.rpc.Status for requests that will never succeed, 503 + Retry-After when overloaded.
 */
import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { RejectCounter } from "../../../core/telemetry/rejects.ts";
import { acceptRawBodies, mediaTypeOf } from "../raw-body-scope.ts";
import { countRefusedRequests } from "../refused-requests.ts";
import type { SpanIngestPort } from "../../ingest.ts";
import type { SpanInput } from "../../span-input.ts";
import { decodeOtlpJson, OtlpDecodeError } from "./otlp-decoder.ts";
import { encodeExportResponse, encodeRpcStatus } from "./otlp-protos.ts";
import { OtlpWireDecoder } from "./otlp-wire-decoder.ts";

export interface OtlpHttpRouteOptions {
  ingest: SpanIngestPort;
  rejects: RejectCounter;
  maxSpansPerRequest: number;
}

const REJECT_SOURCE = "otlp";
const PROTOBUF = "application/x-protobuf";
const JSON_TYPE = "application/json";
/** google.rpc.Code values used in Status bodies. */
const CODE_INVALID_ARGUMENT = 3;
const CODE_UNAVAILABLE = 14;
const RETRY_AFTER_SECONDS = 1;

export function otlpHttpRoutes(options: OtlpHttpRouteOptions): FastifyPluginAsync {
  const { ingest, rejects, maxSpansPerRequest } = options;
  const protobufDecoder = new OtlpWireDecoder(maxSpansPerRequest);
  return async (app) => {
    acceptRawBodies(app);
    countRefusedRequests(app, REJECT_SOURCE, rejects);
    app.post("/v1/traces", { config: { scope: "ingest" } }, async (request, reply) => {
      const mediaType = mediaTypeOf(request.headers["content-type"]);
      const isJson = mediaType === JSON_TYPE;
      if (!isJson && mediaType !== PROTOBUF) {
        rejects.reject(REJECT_SOURCE, "unsupported-content-type", 1, mediaType);
        return sendStatus(reply, 415, false, CODE_INVALID_ARGUMENT, `unsupported content type "${mediaType || "(none)"}"; send ${PROTOBUF} or ${JSON_TYPE}`);
      }
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let spans: SpanInput[];
      try {
        spans = isJson ? decodeOtlpJson(body.toString("utf8"), maxSpansPerRequest) : protobufDecoder.decode(body);
      } catch (error) {
        if (!(error instanceof OtlpDecodeError)) throw error;
        rejects.reject(REJECT_SOURCE, "malformed-request", 1, error.message);
        return sendStatus(reply, 400, isJson, CODE_INVALID_ARGUMENT, error.message);
      }
      const result = ingest.ingest("otlp", spans);
      if (result.outcome === "overloaded") {
        void reply.header("retry-after", String(RETRY_AFTER_SECONDS));
        return sendStatus(reply, 503, isJson, CODE_UNAVAILABLE, result.message, RETRY_AFTER_SECONDS);
      }
      // Acknowledged means durable: with the write-ahead buffer on, the answer waits for its fsync.
      await ingest.durable?.();
      if (isJson) {
        const partial = result.rejected === 0 ? {} : { partialSuccess: { rejectedSpans: String(result.rejected), errorMessage: result.rejectMessage } };
        return reply.code(200).type(JSON_TYPE).send(partial);
      }
      return reply.code(200).type(PROTOBUF).send(Buffer.from(encodeExportResponse(result.rejected, result.rejectMessage)));
    });
  };
}

function sendStatus(reply: FastifyReply, httpStatus: number, isJson: boolean, code: number, message: string, retryDelaySeconds?: number): FastifyReply {
  if (isJson) return reply.code(httpStatus).type(JSON_TYPE).send({ code, message });
  return reply.code(httpStatus).type(PROTOBUF).send(Buffer.from(encodeRpcStatus(code, message, retryDelaySeconds)));
}
