import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { errorBody, MeshsightError } from "../../../core/http/errors.ts";
import type { AccessLogEntry, ProxyIdentity, ProxyRole } from "../../../core/model/access-log.ts";
import type { AccessLogIngest } from "../../ingest.ts";
import { readLogBody, type BodyLimits } from "./body-reader.ts";
import type { LineParser } from "./entry.ts";
import { ingestBusy, invalidParameter, unsupportedEncoding, unsupportedMediaType } from "./errors.ts";
import { createLineParser, type LineFormatOptions } from "./formats.ts";
import { IngestAccount, type IngestOutcome } from "./ingest-account.ts";
import { ACCESS_LOG_REJECT_SOURCE, AccessLogLineDecoder, DEFAULT_MAX_LINE_BYTES, type RejectLedger } from "./line-decoder.ts";
import { identityFromStatic } from "./source-identity.ts";

export interface LogIngestRouteDeps {
  ingest: AccessLogIngest;
  /** The reject counter the pipeline behind `ingest` counts with, so the reply can name its rejects too. */
  rejects: RejectLedger;
  formatOptions?: LineFormatOptions;
  /** Default 16 MiB each. A request is handed to ingest as one batch, so these also bound its memory. */
  maxCompressedBytes?: number;
  maxDecompressedBytes?: number;
  maxLineBytes?: number;
}

export type LogIngestResponse = IngestOutcome;

const DEFAULT_BODY_BYTES = 16 * 1024 * 1024;
const ACCEPTED_MEDIA_TYPES = new Set(["text/plain", "application/x-ndjson", "application/jsonl", "application/json", "application/octet-stream"]);
const ROLES: ReadonlySet<string> = new Set<ProxyRole>(["sidecar", "router", "waypoint", "none"]);

/** A request setting, from the query string (`?service=`) or else its header (`x-meshsight-service`). */
function setting(request: FastifyRequest, name: string): string | undefined {
  const fromQuery = (request.query as Record<string, unknown> | undefined)?.[name];
  if (typeof fromQuery === "string") return fromQuery;
  const fromHeader = request.headers[`x-meshsight-${name}`];
  return typeof fromHeader === "string" ? fromHeader : undefined;
}

function checkContentType(request: FastifyRequest): void {
  const header = request.headers["content-type"] ?? "";
  const mediaType = header.split(";")[0]?.trim().toLowerCase() ?? "";
  if (!ACCEPTED_MEDIA_TYPES.has(mediaType)) {
    throw unsupportedMediaType(header);
  }
}

function contentEncoding(request: FastifyRequest): "identity" | "gzip" {
  const header = (request.headers["content-encoding"] ?? "identity").trim().toLowerCase();
  if (header === "identity" || header === "") return "identity";
  if (header === "gzip" || header === "x-gzip") return "gzip";
  throw unsupportedEncoding(header);
}

function parserFor(request: FastifyRequest, deps: LogIngestRouteDeps): LineParser {
  const format = setting(request, "format") ?? "istio";
  try {
    return createLineParser(format, deps.formatOptions);
  } catch (error) {
    throw invalidParameter("format", (error as Error).message);
  }
}

function proxyFor(request: FastifyRequest): ProxyIdentity {
  const role = setting(request, "role") ?? "sidecar";
  if (!ROLES.has(role)) throw invalidParameter("role", `${JSON.stringify(role)} is not one of ${[...ROLES].join(", ")}`);
  return identityFromStatic({
    service: setting(request, "service") ?? "",
    instance: setting(request, "instance") ?? "",
    namespace: setting(request, "namespace") ?? "",
    ip: setting(request, "ip") ?? "",
    role: role as ProxyRole,
  });
}

async function handleLogIngest(request: FastifyRequest, reply: FastifyReply, deps: LogIngestRouteDeps, limits: BodyLimits): Promise<FastifyReply> {
  try {
    checkContentType(request);
    const encoding = contentEncoding(request);
    const decoder = new AccessLogLineDecoder(parserFor(request, deps), deps.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    const proxy = proxyFor(request);
    const entries: AccessLogEntry[] = [];
    await readLogBody(request.raw, encoding, limits, (chunk) => decoder.decode(chunk, entries));
    decoder.finish(entries);
    const account = new IngestAccount(deps.ingest, deps.rejects);
    // One batch per request: a 429 then means "none of it was taken", so the client can resend it as is.
    if (entries.length > 0 && !account.ingest(proxy, entries)) {
      void reply.header("retry-after", "1");
      throw ingestBusy();
    }
    // Acknowledged means durable: with the write-ahead buffer on, the reply waits for its fsync.
    await deps.ingest.durable?.();
    decoder.tally.reportTo(deps.rejects);
    const body: LogIngestResponse = account.outcome(decoder);
    return await reply.code(200).send(body);
  } catch (error) {
    if (!(error instanceof MeshsightError)) throw error;
    if (error.code === "MS_BODY_TOO_LARGE") deps.rejects.reject(ACCESS_LOG_REJECT_SOURCE, "body_too_large");
    if (error.code === "MS_INVALID_GZIP_BODY") deps.rejects.reject(ACCESS_LOG_REJECT_SOURCE, "invalid_gzip");
    return await reply.code(error.statusCode).send(errorBody(error));
  }
}

/**
 * `POST /api/v1/logs`: newline-delimited access-log lines (`?format=istio|envoy|json|mosn|custom:...`), with
 * the writing proxy's identity in `service`, `instance`, `namespace`, `role`, `ip` query parameters or
 * `x-meshsight-*` headers; `Content-Encoding: gzip` accepted under a decompressed-size cap. Replies
 * `{ lines, accepted, rejected, reasons }` (IngestOutcome), 429 `MS_INGEST_BUSY` when the pipeline refuses.
 *
 * Registered in its own encapsulated scope so its raw-body parser does not change how other routes parse.
 */
export function registerLogIngestRoutes(app: FastifyInstance, deps: LogIngestRouteDeps): void {
  const limits: BodyLimits = {
    maxCompressedBytes: deps.maxCompressedBytes ?? DEFAULT_BODY_BYTES,
    maxDecompressedBytes: deps.maxDecompressedBytes ?? DEFAULT_BODY_BYTES,
  };
  void app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    // Leave the body unread: the handler streams request.raw itself, with its own caps and gunzip.
    scope.addContentTypeParser("*", (_request, _payload, parsed) => parsed(null));
    scope.post("/api/v1/logs", { config: { scope: "ingest" } }, (request, reply) => handleLogIngest(request, reply, deps, limits));
    done();
  });
}
