import { parseHostPort } from "../kinds/spec-schema.ts";
import { isRecord, type BlackboxModule } from "./module-file.ts";

/**
 * How one blackbox_exporter module runs on meshsight's kinds: the kind, its spec in case-file form and
 * the target the kind is given. A module asking for something the kinds cannot do is `unsupported`
 * with the reason: blackbox_exporter answers such a probe with `probe_success 0`, and so does the route
 * (prober/api/blackbox-route.ts), logging the reason instead of refusing the scrape.
 */
export type ModulePlan = { kind: string; spec: Record<string, unknown>; target: string } | { unsupported: string };

/** A target this module's prober cannot use at all (blackbox_exporter answers 400 for these too). */
export class BadTargetError extends Error {
  override readonly name = "BadTargetError";
}

/** Options that only choose among addresses or client tunings; the result of a probe does not depend on them. */
const NEUTRAL_OPTIONS = new Set(["preferred_ip_protocol", "ip_protocol_fallback"]);

export function planModule(module: BlackboxModule, target: string): ModulePlan {
  const options = new OptionReader(module.options);
  const plan = planProber(module.prober, options, target);
  if ("unsupported" in plan) return plan;
  const leftover = options.unread();
  if (leftover.length > 0) return { unsupported: `module ${module.name}: ${module.prober} option(s) ${leftover.join(", ")} not supported by meshsight` };
  return plan;
}

function planProber(prober: string, options: OptionReader, target: string): ModulePlan {
  switch (prober) {
    case "http":
      return planHttp(options, target);
    case "tcp":
      return planTcp(options, target);
    case "dns":
      return planDns(options, target);
    case "grpc":
      return planGrpc(options, target);
    case "icmp":
      // https://github.com/prometheus/blackbox_exporter/blob/master/prober/icmp.go opens raw or unprivileged ICMP sockets; Node has neither.
      return { unsupported: "the icmp prober needs ICMP sockets (raw, or unprivileged ping sockets), which Node.js does not offer; use a tcp_connect module" };
    default:
      return { unsupported: `the ${prober} prober is not supported by meshsight (http, tcp, dns and grpc are)` };
  }
}

/** Blackbox's http prober prefixes a target without a scheme with http:// (prober/http.go, ProbeHTTP). */
export function httpTargetUrl(target: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `http://${target}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new BadTargetError(`target ${JSON.stringify(target)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new BadTargetError(`target ${JSON.stringify(target)}: expected http or https`);
  return withScheme;
}

function planHttp(options: OptionReader, target: string): ModulePlan {
  const url = httpTargetUrl(target);
  if (options.take("enable_http3") === true) return { unsupported: "HTTP/3 (enable_http3) is not available in Node.js's HTTP client" };
  const versions = options.take("valid_http_versions");
  if (Array.isArray(versions) && !versions.some((version) => version === "HTTP/1.1" || version === "HTTP/1.0")) {
    return { unsupported: `valid_http_versions ${versions.map(String).join(", ")}: meshsight's http prober speaks HTTP/1.1` };
  }
  options.take("enable_http2");
  const spec: Record<string, unknown> = {};
  const method = options.take("method");
  if (typeof method === "string") spec.method = method.toUpperCase();
  const headers = options.take("headers");
  if (isRecord(headers)) spec.headers = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, String(value)]));
  const body = options.take("body");
  if (typeof body === "string") spec.body = body;
  const codes = options.take("valid_status_codes");
  // Blackbox's default is any 2xx (prober/http.go).
  spec.expectedStatus = Array.isArray(codes) && codes.length > 0 ? codes : ["2xx"];
  // The kind refuses values of the wrong shape with a message naming the field (then unsupported, as any spec error).
  for (const [option, field] of HTTP_PASSED_OPTIONS) {
    const value = options.take(option);
    if (value !== undefined) spec[field] = value;
  }
  for (const [option, field] of [["fail_if_header_matches", "failIfHeaderMatches"], ["fail_if_header_not_matches", "failIfHeaderNotMatches"]] as const) {
    const checks = options.take(option);
    if (checks === undefined) continue;
    if (!Array.isArray(checks) || !checks.every(isRecord)) return { unsupported: `${option}: expected a list of { header, regexp, allow_missing }` };
    spec[field] = checks.map(({ allow_missing: allowMissing, ...check }) => ({ ...check, ...(allowMissing === undefined ? {} : { allowMissing }) }));
  }
  const compression = options.take("compression");
  if (compression !== undefined && compression !== "") spec.compression = typeof compression === "string" ? compression.toLowerCase() : compression;
  const limit = bodySizeLimit(options.take("body_size_limit"));
  if (typeof limit === "object") return limit;
  if (limit > 0) spec.bodySizeLimit = limit;
  const noFollow = options.take("no_follow_redirects");
  const follow = options.take("follow_redirects");
  spec.followRedirects = noFollow !== true && follow !== false;
  // Blackbox's http client builds its TLS settings for every target, https or not.
  const tls = usedTlsOptions(options, true);
  if ("unsupported" in tls) return tls;
  if (tls.insecure) spec.tlsVerify = false;
  Object.assign(spec, tls.client);
  return { kind: "http", spec, target: url };
}

/** Go's base-2 byte units (github.com/alecthomas/units, which blackbox's body_size_limit uses): KB and KiB are both 1024. */
const BYTE_UNITS: Readonly<Record<string, number>> = { B: 1, KB: 2 ** 10, KIB: 2 ** 10, MB: 2 ** 20, MIB: 2 ** 20, GB: 2 ** 30, GIB: 2 ** 30, TB: 2 ** 40, TIB: 2 ** 40 };

/** body_size_limit in bytes; 0 (the default) and negative values mean no limit, as in blackbox's config/config.go. */
function bodySizeLimit(value: unknown): number | { unsupported: string } {
  if (value === undefined) return 0;
  if (typeof value === "number" && Number.isInteger(value)) return value;
  const match = typeof value === "string" ? /^(-?\d+(?:\.\d+)?)([a-z]+)$/i.exec(value.trim()) : null;
  const unit = match ? BYTE_UNITS[match[2]!.toUpperCase()] : undefined;
  if (!match || unit === undefined) return { unsupported: `body_size_limit ${JSON.stringify(value)}: expected a size such as 1MB or 512KiB` };
  return Math.floor(Number(match[1]) * unit);
}

/** http options that the http kind takes as they are, under its own names. */
const HTTP_PASSED_OPTIONS = [
  ["fail_if_body_matches_regexp", "failIfBodyMatches"],
  ["fail_if_body_not_matches_regexp", "failIfBodyNotMatches"],
  // Compiled when the modules file is read (module-file.ts), so a bad expression refuses the file as in blackbox.
  ["fail_if_body_json_matches_cel", "failIfBodyJsonMatchesCel"],
  ["fail_if_body_json_not_matches_cel", "failIfBodyJsonNotMatchesCel"],
  ["fail_if_ssl", "failIfSsl"],
  ["fail_if_not_ssl", "failIfNotSsl"],
] as const;

function planTcp(options: OptionReader, target: string): ModulePlan {
  if (!parseHostPort(target)) throw new BadTargetError(`target ${JSON.stringify(target)} is not host:port`);
  const spec: Record<string, unknown> = {};
  if (options.take("tls") === true) spec.tls = true;
  // An unusable address is refused by the kind naming the field; blackbox fails such a probe too (prober/tcp.go).
  const source = options.take("source_ip_address");
  if (source !== undefined && source !== "") spec.sourceIpAddress = source;
  const steps = options.take("query_response");
  // Blackbox builds its TLS settings to connect with tls, or at a starttls step (prober/tcp.go, query_response.go).
  const isStartingTls = Array.isArray(steps) && steps.some((step) => isRecord(step) && step.starttls === true);
  const tls = usedTlsOptions(options, spec.tls === true || isStartingTls);
  if ("unsupported" in tls) return tls;
  if (tls.insecure) spec.tlsVerify = false;
  if (tls.serverName !== undefined) spec.serverName = tls.serverName;
  Object.assign(spec, tls.client);
  if (steps !== undefined) {
    const dialogue = tcpDialogue(steps);
    if ("unsupported" in dialogue) return dialogue;
    spec.steps = dialogue.steps;
  }
  return { kind: "tcp", spec, target };
}

/** query_response steps as the tcp kind's `steps` (prober/kinds/tcp-dialogue.ts runs them as prober/query_response.go does). */
function tcpDialogue(steps: unknown): { steps: Array<Record<string, unknown>> } | { unsupported: string } {
  if (!Array.isArray(steps)) return { unsupported: "query_response: expected a list of steps" };
  const result: Array<Record<string, unknown>> = [];
  for (const step of steps) {
    if (!isRecord(step)) return { unsupported: "query_response: expected a list of steps" };
    const other = Object.keys(step).filter((key) => !["send", "expect", "expect_bytes", "starttls", "labels"].includes(key));
    if (other.length > 0) return { unsupported: `query_response step option(s) ${other.join(", ")} not supported by meshsight` };
    if (step.expect !== undefined && typeof step.expect !== "string") return { unsupported: "query_response expect: expected a regular expression" };
    if (step.expect_bytes !== undefined && typeof step.expect_bytes !== "string") return { unsupported: "query_response expect_bytes: expected a string" };
    // !!binary (blackbox.yml's postgresql module) arrives as bytes; they go to the kind in hex.
    const send = step.send instanceof Uint8Array ? { sendHex: Buffer.from(step.send).toString("hex") } : typeof step.send === "string" ? { send: step.send } : {};
    if (step.send !== undefined && Object.keys(send).length === 0) return { unsupported: "query_response send: expected text or !!binary bytes" };
    result.push({
      ...(step.expect === undefined ? {} : { expect: step.expect }),
      ...(step.labels === undefined ? {} : { labels: step.labels }),
      ...(step.expect_bytes === undefined ? {} : { expectBytes: step.expect_bytes }),
      ...send,
      ...(step.starttls === true ? { starttls: true } : {}),
    });
  }
  return { steps: result };
}

/** The validate_*_rrs keys of blackbox's DNSRRValidator and the dns kind's names for them. */
const RR_VALIDATOR_KEYS: Readonly<Record<string, string>> = {
  fail_if_matches_regexp: "failIfMatches",
  fail_if_all_match_regexp: "failIfAllMatch",
  fail_if_not_matches_regexp: "failIfNotMatches",
  fail_if_none_matches_regexp: "failIfNoneMatches",
};

/**
 * Blackbox's dns prober asks the target (the DNS server, port 53 when not given, 853 with
 * dns_over_tls) about query_name (prober/dns.go).
 */
function planDns(options: OptionReader, target: string): ModulePlan {
  const isOverTls = options.take("dns_over_tls") === true;
  const server = parseHostPort(target, isOverTls ? 853 : 53);
  if (!server) throw new BadTargetError(`target ${JSON.stringify(target)} is not a DNS server host[:port]`);
  const name = options.take("query_name");
  if (typeof name !== "string" || name === "") return { unsupported: "query_name is missing" };
  const host = server.host.includes(":") ? `[${server.host}]` : server.host;
  // Blackbox's defaults: query_type ANY, any number of answers (config/config.go).
  const spec: Record<string, unknown> = { server: `${host}:${server.port}`, recordType: options.take("query_type") ?? "ANY", minAnswers: 0 };
  const transport = options.take("transport_protocol");
  if (transport !== undefined) spec.transport = transport;
  // Blackbox ignores tls_config without dns_over_tls, and its DNS over TLS is "tcp-tls": transport_protocol
  // must say tcp (its default is udp), else the probe fails with a configuration error.
  const tls = usedTlsOptions(options, isOverTls);
  if ("unsupported" in tls) return tls;
  if (isOverTls) {
    if (transport !== "tcp") return { unsupported: `dns_over_tls needs transport_protocol tcp, got ${JSON.stringify(transport ?? "udp")} (blackbox: "Expected transport protocol tcp for DoT")` };
    spec.transport = "tls";
    if (tls.insecure) spec.tlsVerify = false;
    if (tls.serverName !== undefined) spec.serverName = tls.serverName;
    Object.assign(spec, tls.client);
  }
  const queryClass = options.take("query_class");
  if (queryClass !== undefined) spec.queryClass = queryClass;
  const source = options.take("source_ip_address");
  if (source !== undefined && source !== "") spec.sourceIpAddress = source;
  const recursion = options.take("recursion_desired");
  if (recursion !== undefined) spec.recursionDesired = recursion;
  const rcodes = options.take("valid_rcodes");
  if (rcodes !== undefined) spec.validRcodes = rcodes;
  for (const [option, field] of [["validate_answer_rrs", "validateAnswer"], ["validate_authority_rrs", "validateAuthority"], ["validate_additional_rrs", "validateAdditional"]] as const) {
    const validator = options.take(option);
    if (validator === undefined) continue;
    if (!isRecord(validator)) return { unsupported: `${option}: expected a mapping` };
    const unknown = Object.keys(validator).filter((key) => RR_VALIDATOR_KEYS[key] === undefined);
    if (unknown.length > 0) return { unsupported: `${option} option(s) ${unknown.join(", ")} not supported by meshsight` };
    spec[field] = Object.fromEntries(Object.entries(validator).map(([key, patterns]) => [RR_VALIDATOR_KEYS[key], patterns]));
  }
  // The kind checks the values (transport udp or tcp, known types, classes and rcodes); what it refuses
  // comes back as unsupported with its message (prober/api/blackbox-route.ts).
  return { kind: "dns", spec, target: name };
}

function planGrpc(options: OptionReader, target: string): ModulePlan {
  if (!parseHostPort(target)) throw new BadTargetError(`target ${JSON.stringify(target)} is not host:port`);
  const spec: Record<string, unknown> = { tls: options.take("tls") === true };
  const service = options.take("service");
  if (typeof service === "string") spec.service = service;
  // Blackbox's metadata.MD: each key with a list of values; the kind refuses other shapes naming the field.
  const metadata = options.take("metadata");
  if (metadata !== undefined) spec.metadata = metadata;
  // Blackbox's grpc prober builds its TLS settings before it looks at `tls` (prober/grpc.go).
  const tls = usedTlsOptions(options, true);
  if ("unsupported" in tls) return tls;
  if (tls.insecure) spec.tlsVerify = false;
  if (tls.serverName !== undefined) spec.serverName = tls.serverName;
  Object.assign(spec, tls.client);
  return { kind: "grpc", spec, target };
}

/** prometheus/common's TLSConfig names for versions (config/http_config.go TLSVersions), as node:tls names them. */
const TLS_VERSIONS: Readonly<Record<string, string>> = { TLS10: "TLSv1", TLS11: "TLSv1.1", TLS12: "TLSv1.2", TLS13: "TLSv1.3" };

/** tls_config keys the tcp, http and grpc kinds take, and their spec names; the files go through prober.filesDir, `ca`/`cert`/`key` are inline PEM. */
const TLS_CLIENT_KEYS: Readonly<Record<string, string>> = { ca_file: "caFile", cert_file: "certFile", key_file: "keyFile", ca: "caPem", cert: "certPem", key: "keyPem", min_version: "minTlsVersion", max_version: "maxTlsVersion" };

interface TlsPlan {
  insecure: boolean;
  serverName: string | undefined;
  /** Spec fields for TLS_CLIENT_KEYS options (empty when none is given). */
  client: Record<string, unknown>;
}

/**
 * prometheus/common's NewTLSConfig reads a `*_ref` from a secret manager, and blackbox_exporter starts
 * none, so a probe whose TLS settings are built fails with its error, CA first (config/http_config.go).
 */
const SECRET_REFS = [
  ["ca_ref", "unable to use CA cert"],
  ["cert_ref", "unable to use client cert"],
  ["key_ref", "unable to use client key"],
] as const;

/** tls_config as the prober uses it: `isUsed` says whether blackbox builds TLS settings from it for this module. */
function usedTlsOptions(options: OptionReader, isUsed: boolean): TlsPlan | { unsupported: string } {
  const tls = options.take("tls_config");
  if (!isUsed) return { insecure: false, serverName: undefined, client: {} };
  const ref = isRecord(tls) ? SECRET_REFS.find(([key]) => typeof tls[key] === "string" && tls[key] !== "") : undefined;
  if (ref) return { unsupported: `tls_config: ${ref[1]}: cannot use secret ref without manager (${ref[0]}: blackbox_exporter runs no secret manager)` };
  return tlsOptions(tls);
}

function tlsOptions(tls: unknown): TlsPlan | { unsupported: string } {
  if (tls === undefined) return { insecure: false, serverName: undefined, client: {} };
  if (!isRecord(tls)) return { unsupported: "tls_config: expected a mapping" };
  const accepted = (key: string) => key === "insecure_skip_verify" || key === "server_name" || TLS_CLIENT_KEYS[key] !== undefined || SECRET_REFS.some(([ref]) => ref === key);
  const other = Object.keys(tls).filter((key) => !accepted(key));
  if (other.length > 0) return { unsupported: `tls_config option(s) ${other.join(", ")} not supported by meshsight` };
  const client: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(TLS_CLIENT_KEYS)) {
    const value = tls[key];
    if (value === undefined) continue;
    // An unknown version name is left as written: the kind refuses it with a message naming the field.
    client[field] = key.endsWith("_version") && typeof value === "string" ? (TLS_VERSIONS[value] ?? value) : value;
  }
  return { insecure: tls.insecure_skip_verify === true, serverName: typeof tls.server_name === "string" ? tls.server_name : undefined, client };
}

/** Reads a module's options and remembers which were read, so the rest can be named as unsupported. */
class OptionReader {
  private readonly read = new Set<string>(NEUTRAL_OPTIONS);
  constructor(private readonly options: Record<string, unknown>) {}

  take(key: string): unknown {
    this.read.add(key);
    return this.options[key];
  }

  unread(): string[] {
    return Object.keys(this.options).filter((key) => !this.read.has(key));
  }
}
