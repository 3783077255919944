import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import type { ProbeContext, ProbeKind, ProbeOutcome } from "../kind.ts";
import { isEgressDenied } from "../../egress/guarded-lookup.ts";
import { addressGauges } from "../ip-address.ts";
import { failed, roundMs, succeeded } from "../outcome.ts";
import { describeCertificateError, tlsGauges } from "../tls-info.ts";
import { loadTlsClient, type TlsClientOptions } from "../tls-client.ts";
import { checkResponse, PatternStoppedError, type ResponseVerdict } from "./http-assertions.ts";
import { exchange, HttpExchangeError, type HopPhases, type HttpExchange } from "./http-exchange.ts";
import { parseHttpSpec, type HttpSpec } from "./http-spec.ts";

const CERTIFICATE_ERROR = /CERT|SELF_SIGNED|UNABLE_TO|ALTNAME/;
const TLS_METRIC_KEYS = ["ssl_earliest_cert_expiry", "tls_version_info", "ssl_last_chain_expiry_timestamp_seconds"];

/**
 * `http`: one request to the target URL (following redirects when asked), checked against the status,
 * body, JSON and latency assertions. Phases are summed over redirect hops, as blackbox exporter does.
 */
export const httpKind: ProbeKind<HttpSpec> = {
  name: "http",
  parseSpec: parseHttpSpec,
  run: runHttp,
};

async function runHttp(spec: HttpSpec, target: string, context: ProbeContext): Promise<ProbeOutcome> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return failed(`target ${JSON.stringify(target)} is not a URL; an http case's targets look like http://host:port/path`, {}, {});
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return failed(`target ${target} must be http:// or https://`, {}, {});
  let tlsClient: TlsClientOptions;
  try {
    tlsClient = await loadTlsClient(spec.tlsClient, context.files);
  } catch (error) {
    return { status: "error", message: error instanceof Error ? error.message : String(error), phases: {}, metrics: {} };
  }
  const started = performance.now();
  const totals: HopPhases = { dns: 0, connect: 0, tls: 0, processing: 0, transfer: 0 };
  const literalHost = url.hostname.replace(/^\[|\]$/g, "");
  // Known before connecting for a literal address; a name's once connected (0 until then, as blackbox registers them).
  const metrics: Record<string, number> = { http_redirects: 0, http_ssl: 0, ...addressGauges(isIP(literalHost) === 0 ? undefined : literalHost) };
  let info: Record<string, Record<string, string>>;
  const visited = [url.href];
  let method = spec.method;
  let body = spec.body;
  let firstByteMs = 0;
  for (;;) {
    const hopStarted = performance.now();
    let response: HttpExchange;
    try {
      response = await exchange({ url, method, headers: spec.headers, body, verifyTls: spec.tlsVerify, tlsClient, bodyLimits: spec.bodyLimits, signal: context.signal, egress: context.egress });
    } catch (error) {
      if (error instanceof HttpExchangeError) addPhases(totals, error.phases);
      const phases = phasesOf(totals, firstByteMs, started);
      // Refused by the egress policy (the first URL or a redirect): the case's configuration, not the target's health.
      if (error instanceof HttpExchangeError && isEgressDenied(error.cause)) return { status: "error", message: `${error.step}: ${error.cause.message}`, phases, metrics };
      return failed(describeFailure(error, url, context), phases, metrics);
    }
    addPhases(totals, response.phases);
    firstByteMs = hopStarted - started + response.firstByteMs;
    metrics.http_status_code = response.status;
    // Blackbox's probe_http_content_length is the Content-Length header (-1 when absent), the body read is probe_http_uncompressed_body_length.
    metrics.http_content_length = contentLength(response.headers["content-length"]);
    metrics.http_uncompressed_body_length = response.bodyBytes;
    metrics.http_version = response.httpVersion;
    // Blackbox resolves only the first URL itself (prober/utils.go chooseProtocol); redirects leave these as they are.
    if (visited.length === 1 && response.remoteAddress !== undefined) Object.assign(metrics, addressGauges(response.remoteAddress));
    metrics.http_ssl = url.protocol === "https:" ? 1 : 0;
    // After a redirect from https to http the last hop decides, as in blackbox exporter.
    for (const key of TLS_METRIC_KEYS) delete metrics[key];
    info = {};
    if (response.tls) {
      const gauges = tlsGauges(response.tls, { hasLastChainExpiry: true, hasCipher: true });
      Object.assign(metrics, gauges.metrics);
      info = gauges.info;
    }
    const location = response.headers.location;
    if (spec.followRedirects && isRedirect(response.status) && location !== undefined) {
      if (metrics.http_redirects! >= spec.maxRedirects) {
        return failed(`stopped after ${spec.maxRedirects} redirects (maxRedirects): ${visited.join(" -> ")}`, phasesOf(totals, firstByteMs, started), metrics);
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        return failed(`${url.href} redirected to an invalid Location ${JSON.stringify(location)}`, phasesOf(totals, firstByteMs, started), metrics);
      }
      if (visited.includes(next.href)) {
        return failed(`redirect loop: ${[...visited, next.href].join(" -> ")}`, phasesOf(totals, firstByteMs, started), { ...metrics, http_redirects: metrics.http_redirects! + 1 });
      }
      metrics.http_redirects! += 1;
      visited.push(next.href);
      // Browsers and curl turn a redirected POST into a GET for 301/302/303; 307/308 keep method and body.
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method !== "GET" && method !== "HEAD")) {
        method = response.status === 303 && method === "HEAD" ? "HEAD" : "GET";
        body = undefined;
      }
      url = next;
      continue;
    }
    const phases = phasesOf(totals, firstByteMs, started);
    let verdict: ResponseVerdict;
    try {
      verdict = await checkResponse(spec, response, url.href, phases.total!, context);
    } catch (error) {
      // The case's pattern is too costly for this body: its definition needs fixing, the target may be fine.
      if (error instanceof PatternStoppedError) return { status: "error", message: `${error.message}; simplify the pattern or lower maxBodyBytes`, phases, metrics };
      throw error;
    }
    metrics.failed_due_to_regex = verdict.dueTo === "regex" ? 1 : 0;
    // Blackbox registers this gauge only for modules with a CEL expression (prober/http.go).
    if (spec.failIfBodyJsonMatchesCel || spec.failIfBodyJsonNotMatchesCel) metrics.failed_due_to_cel = verdict.dueTo === "cel" ? 1 : 0;
    return { ...(verdict.problem === "" ? succeeded(phases, metrics) : failed(verdict.problem, phases, metrics)), info };
  }
}

function contentLength(header: string | undefined): number {
  const length = header === undefined ? Number.NaN : Number(header);
  return Number.isInteger(length) && length >= 0 ? length : -1;
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function addPhases(totals: HopPhases, hop: HopPhases): void {
  totals.dns += hop.dns;
  totals.connect += hop.connect;
  totals.tls += hop.tls;
  totals.processing += hop.processing;
  totals.transfer += hop.transfer;
}

function phasesOf(totals: HopPhases, firstByteMs: number, started: number): Record<string, number> {
  return {
    dns: roundMs(totals.dns),
    connect: roundMs(totals.connect),
    tls: roundMs(totals.tls),
    processing: roundMs(totals.processing),
    transfer: roundMs(totals.transfer),
    firstByte: roundMs(firstByteMs),
    total: roundMs(performance.now() - started),
  };
}

function describeFailure(error: unknown, url: URL, context: ProbeContext): string {
  if (!(error instanceof HttpExchangeError)) return `request to ${url.href} failed: ${error instanceof Error ? error.message : String(error)}`;
  if (context.signal.aborted) return `timed out after ${context.timeoutMs}ms ${error.step}`;
  if (CERTIFICATE_ERROR.test(error.code)) return `${error.step}: ${describeCertificateError(error.code, url.hostname)}`;
  const detail = error.cause instanceof Error ? error.cause.message : String(error.cause);
  return `${error.step} failed: ${detail}`;
}
