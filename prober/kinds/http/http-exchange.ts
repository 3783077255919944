import type { ClientRequest, IncomingHttpHeaders, IncomingMessage } from "node:http";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { performance } from "node:perf_hooks";
import type { EgressPolicy } from "../../egress/egress-policy.ts";
import { guardConnection, type LookupFunction } from "../../egress/guarded-lookup.ts";
import { readTlsFacts, type TlsFacts } from "../tls-info.ts";
import type { TlsClientOptions } from "../tls-client.ts";
import { readBody, type BodyLimits } from "./http-body.ts";

/** One HTTP request/response, timed by phase from the socket's own events (fetch hides them). */
export interface HttpExchangeRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  verifyTls: boolean;
  /** CA, client certificate and versions for https (prober/kinds/tls-client.ts). */
  tlsClient: TlsClientOptions;
  /** How the body is decoded, bounded and kept (prober/kinds/http/http-body.ts). */
  bodyLimits: BodyLimits;
  signal: AbortSignal;
  /** Checked before a literal address is connected to, and on the resolved addresses of a name. */
  egress: EgressPolicy;
}

/** Durations in ms; blackbox names: resolve=dns, connect, tls, processing (to first byte), transfer. */
export interface HopPhases {
  dns: number;
  connect: number;
  tls: number;
  processing: number;
  transfer: number;
}

export interface HttpExchange {
  status: number;
  headers: IncomingHttpHeaders;
  /** Names and values as received, alternating: a header sent twice keeps both values (blackbox matches each). */
  rawHeaders: string[];
  body: Buffer;
  /** Every (decoded) body byte read, kept or not. */
  bodyBytes: number;
  bodyTruncated: boolean;
  /** Why the body could not be read as the spec asks (too large, wrong encoding); "" when it could. */
  bodyProblem: string;
  /** The body's decoder refused its start before blackbox's body checks would read it (prober/kinds/http/http-body.ts). */
  isBodyRefusedByDecoder: boolean;
  phases: HopPhases;
  /** Since the request started, to the first response byte. */
  firstByteMs: number;
  tls: TlsFacts | undefined;
  /** 1.1 or 1.0 as the response says (blackbox's probe_http_version). */
  httpVersion: number;
  /** The address connected to (blackbox's probe_ip_protocol and probe_ip_addr_hash come from it). */
  remoteAddress: string | undefined;
}

/** A failed exchange that says in which step it stopped, so the message can point at DNS, TCP, TLS or the server. */
export class HttpExchangeError extends Error {
  override readonly name = "HttpExchangeError";
  constructor(
    readonly step: string,
    override readonly cause: unknown,
    readonly code: string,
    readonly phases: HopPhases,
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

interface Marks {
  start: number;
  lookup?: number;
  connect?: number;
  secure?: number;
  firstByte?: number;
  end?: number;
}

export async function exchange(request: HttpExchangeRequest): Promise<HttpExchange> {
  const { url } = request;
  const isHttps = url.protocol === "https:";
  const marks: Marks = { start: performance.now() };
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  let lookup: LookupFunction;
  try {
    lookup = await guardConnection(request.egress, hostname, Number(url.port === "" ? (isHttps ? 443 : 80) : url.port));
  } catch (error) {
    throw new HttpExchangeError(stepOf(marks, isHttps, hostname, url), error, errorCode(error), phasesOf(marks));
  }
  return send(request, marks, lookup);
}

function send(request: HttpExchangeRequest, marks: Marks, lookup: LookupFunction): Promise<HttpExchange> {
  const { url } = request;
  const isHttps = url.protocol === "https:";
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  let tls: TlsFacts | undefined;
  return new Promise<HttpExchange>((resolve, reject) => {
    let settled = false;
    const fail = (cause: unknown) => {
      if (settled) return;
      settled = true;
      reject(new HttpExchangeError(stepOf(marks, isHttps, hostname, url), cause, errorCode(cause), phasesOf(marks)));
    };
    const options = {
      method: request.method,
      headers: request.headers,
      // A fresh socket per probe: reusing one would hide the connect and TLS phases being measured.
      agent: false as const,
      signal: request.signal,
      rejectUnauthorized: request.verifyTls,
      ...request.tlsClient,
      servername: isIP(hostname) === 0 ? hostname : undefined,
      lookup,
    };
    let client: ClientRequest;
    try {
      client = isHttps ? httpsRequest(url, options) : httpRequest(url, options);
    } catch (error) {
      fail(error);
      return;
    }
    client.on("socket", (socket: Socket) => {
      socket.once("lookup", () => (marks.lookup = performance.now()));
      socket.once("connect", () => (marks.connect = performance.now()));
      socket.once("secureConnect", () => {
        marks.secure = performance.now();
        tls = readTlsFacts(socket as TLSSocket);
      });
    });
    client.on("error", fail);
    client.on("response", (response: IncomingMessage) => {
      marks.firstByte = performance.now();
      readBody(response, request.bodyLimits).then((read) => {
        if (settled) return;
        settled = true;
        marks.end = performance.now();
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          rawHeaders: response.rawHeaders,
          body: read.body,
          bodyBytes: read.bodyBytes,
          bodyTruncated: read.bodyTruncated,
          bodyProblem: read.problem,
          isBodyRefusedByDecoder: read.isRefusedByDecoder,
          phases: phasesOf(marks),
          firstByteMs: marks.firstByte! - marks.start,
          tls,
          httpVersion: Number(response.httpVersion) || 0,
          remoteAddress: response.socket?.remoteAddress,
        });
      }, fail);
    });
    client.end(request.body);
  });
}

function phasesOf(marks: Marks): HopPhases {
  const afterDns = marks.lookup ?? marks.start;
  const connected = marks.connect ?? afterDns;
  const secured = marks.secure ?? connected;
  return {
    dns: (marks.lookup ?? marks.start) - marks.start,
    connect: marks.connect === undefined ? 0 : marks.connect - afterDns,
    tls: marks.secure === undefined ? 0 : marks.secure - connected,
    processing: marks.firstByte === undefined ? 0 : marks.firstByte - secured,
    transfer: marks.end === undefined || marks.firstByte === undefined ? 0 : marks.end - marks.firstByte,
  };
}

function stepOf(marks: Marks, isHttps: boolean, hostname: string, url: URL): string {
  const port = url.port === "" ? (isHttps ? "443" : "80") : url.port;
  if (marks.lookup === undefined && marks.connect === undefined && isIP(hostname) === 0) return `resolving ${hostname}`;
  if (marks.connect === undefined) return `connecting to ${hostname}:${port}`;
  if (isHttps && marks.secure === undefined) return `TLS handshake with ${hostname}:${port}`;
  if (marks.firstByte === undefined) return `waiting for the response of ${url.origin}`;
  return `reading the body of ${url.href}`;
}

function errorCode(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error && typeof error.code === "string" ? error.code : "";
}
