import type { AccessLogEntry } from "../../core/model/access-log.ts";
import type { Component, DetectPoint } from "../../core/model/dimensions.ts";

/**
 * How one access-log entry becomes error, latency and component values. The rules follow SkyWalking's
 * `LogEntry2MetricsAdapter`, so dashboards read the same for users coming from it; docs/mesh.md explains
 * them with examples.
 */

/** Envoy prints `-` for "no flags" in text logs; decoders may pass it through. */
export function hasResponseFlags(entry: AccessLogEntry): boolean {
  return entry.responseFlags !== "" && entry.responseFlags !== "-";
}

/**
 * Envoy logs code 0 when no response was sent. Without a response flag that is a completed exchange with
 * no HTTP status (TCP, or a gRPC stream ended by trailers), which SkyWalking counts as 200; with a flag
 * (UH, UF, DC...) it is a failure and stays 0 so the raw record shows no response was sent.
 */
export function effectiveResponseCode(entry: AccessLogEntry): number {
  if (entry.responseCode !== 0) return entry.responseCode;
  if (entry.protocol === "tcp" || hasResponseFlags(entry)) return 0;
  return 200;
}

/**
 * The server side owns its 4xx (the caller asked for something wrong: not the server's failure); the
 * client side sees the call fail either way, so 4xx counts there. Any response flag means Envoy itself
 * intervened (no upstream, timeout, reset...) and is always an error.
 */
export function isErrorCall(entry: AccessLogEntry, detectPoint: DetectPoint): boolean {
  if (hasResponseFlags(entry)) return true;
  const code = effectiveResponseCode(entry);
  return detectPoint === "server" ? code >= 500 : code >= 400;
}

/**
 * Server side: time to the last byte sent downstream (what the caller waited for). Client side: the
 * upstream round trip (last upstream byte received minus first sent), which excludes time spent in the
 * caller's own sidecar. Whole duration when the precise timing is missing; never below 1 ms so a call
 * always weighs in the histogram.
 */
export function callLatencyMs(entry: AccessLogEntry, detectPoint: DetectPoint): number {
  const precise = detectPoint === "server" ? entry.timeToLastDownstreamTxMs : entry.upstreamLatencyMs;
  const latency = precise >= 0 ? precise : entry.durationMs;
  return latency >= 1 ? latency : 1;
}

/**
 * http, grpc, tcp, tls or mtls, as shown on topology edges.
 *
 * TCP entries: `mtls` when both sides presented certificates (Istio's mutual TLS), `tls` when only the
 * local side did (TLS terminated at this proxy), `tcp` otherwise.
 *
 * HTTP entries are gRPC when the scheme says so (`grpc`/`grpcs`, written by some loggers), when the user
 * agent is a gRPC library (`grpc-go/1.62`, `grpc-java-netty/...`, `grpc-node-js/...`, `grpc-python/...`),
 * or when a POST goes to a `/package.Service/Method` path. Access logs carry neither the content-type nor
 * (for text logs) a reliable HTTP version, so the path shape is the practical signal: gRPC paths always have
 * exactly two segments, the first package-qualified.
 */
export function callComponent(entry: AccessLogEntry): Component {
  if (entry.protocol === "tcp") return entry.tlsMode === "none" ? "tcp" : entry.tlsMode;
  return isGrpcRequest(entry) ? "grpc" : "http";
}

export function isGrpcRequest(entry: AccessLogEntry): boolean {
  if (entry.scheme.startsWith("grpc")) return true;
  if (entry.userAgent.startsWith("grpc-")) return true;
  return entry.method === "POST" && GRPC_PATH.test(entry.path);
}

/**
 * `/helloworld.Greeter/SayHello`, `/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs`; the
 * service's last part starts with a letter so REST paths such as `/v1.0/users` do not match.
 */
const GRPC_PATH = /^\/(?:[A-Za-z_][\w]*\.)+[A-Za-z_][\w]*\/[A-Za-z_][\w]*$/;

/** The path without query string or fragment; `/` when there is none. Only slices when it must. */
export function pathWithoutQuery(path: string): string {
  if (path === "" || path === "-") return "/";
  let end = path.length;
  for (let index = 0; index < path.length; index++) {
    const code = path.charCodeAt(index);
    if (code === 63 /* ? */ || code === 35 /* # */) {
      end = index;
      break;
    }
  }
  if (end === 0) return "/";
  return end === path.length ? path : path.slice(0, end);
}
