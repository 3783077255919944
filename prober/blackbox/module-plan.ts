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
  const bodyMatches = options.take("fail_if_body_not_matches_regexp");
  if (Array.isArray(bodyMatches) && bodyMatches.length > 1) return { unsupported: "more than one fail_if_body_not_matches_regexp" };
  if (Array.isArray(bodyMatches) && typeof bodyMatches[0] === "string") spec.bodyRegex = bodyMatches[0];
  const noFollow = options.take("no_follow_redirects");
  const follow = options.take("follow_redirects");
  spec.followRedirects = noFollow !== true && follow !== false;
  const tls = tlsOptions(options);
  if ("unsupported" in tls) return tls;
  if (tls.insecure) spec.tlsVerify = false;
  return { kind: "http", spec, target: url };
}

function planTcp(options: OptionReader, target: string): ModulePlan {
  if (!parseHostPort(target)) throw new BadTargetError(`target ${JSON.stringify(target)} is not host:port`);
  const spec: Record<string, unknown> = {};
  if (options.take("tls") === true) spec.tls = true;
  const tls = tlsOptions(options);
  if ("unsupported" in tls) return tls;
  if (tls.insecure) spec.tlsVerify = false;
  if (tls.serverName !== undefined) spec.serverName = tls.serverName;
  const steps = options.take("query_response");
  if (steps !== undefined) {
    const dialogue = tcpDialogue(steps);
    if ("unsupported" in dialogue) return dialogue;
    spec.steps = dialogue.steps;
  }
  return { kind: "tcp", spec, target };
}

/** query_response steps as the tcp kind's `steps` (prober/kinds/tcp-dialogue.ts runs them as prober/tcp.go does). */
function tcpDialogue(steps: unknown): { steps: Array<Record<string, unknown>> } | { unsupported: string } {
  if (!Array.isArray(steps)) return { unsupported: "query_response: expected a list of steps" };
  const result: Array<Record<string, unknown>> = [];
  for (const step of steps) {
    if (!isRecord(step)) return { unsupported: "query_response: expected a list of steps" };
    const other = Object.keys(step).filter((key) => key !== "send" && key !== "expect" && key !== "starttls");
    if (other.length > 0) return { unsupported: `query_response step option(s) ${other.join(", ")} not supported by meshsight` };
    if (step.expect !== undefined && typeof step.expect !== "string") return { unsupported: "query_response expect: expected a regular expression" };
    if (step.send !== undefined && typeof step.send !== "string") return { unsupported: "query_response send: only text is supported by meshsight" };
    result.push({ ...(step.expect === undefined ? {} : { expect: step.expect }), ...(step.send === undefined ? {} : { send: step.send }), ...(step.starttls === true ? { starttls: true } : {}) });
  }
  return { steps: result };
}

const DNS_TYPES = new Set(["A", "AAAA", "CNAME", "MX", "TXT", "SRV"]);

/** Blackbox's dns prober asks the target (the DNS server, port 53 when not given) about query_name (prober/dns.go). */
function planDns(options: OptionReader, target: string): ModulePlan {
  const server = parseHostPort(target, 53);
  if (!server) throw new BadTargetError(`target ${JSON.stringify(target)} is not a DNS server host[:port]`);
  const name = options.take("query_name");
  if (typeof name !== "string" || name === "") return { unsupported: "query_name is missing" };
  // Blackbox's default query_type is ANY (config/config.go).
  const queryType = options.take("query_type") ?? "ANY";
  const type = typeof queryType === "string" ? queryType.toUpperCase() : "";
  if (!DNS_TYPES.has(type)) return { unsupported: `query_type ${JSON.stringify(queryType)}: meshsight asks for ${[...DNS_TYPES].join(", ")}` };
  const transport = options.take("transport_protocol");
  if (transport !== undefined && transport !== "udp") return { unsupported: `transport_protocol ${JSON.stringify(transport)}: meshsight asks over udp` };
  const rcodes = options.take("valid_rcodes");
  if (rcodes !== undefined && !(Array.isArray(rcodes) && rcodes.length === 1 && rcodes[0] === "NOERROR")) {
    return { unsupported: "valid_rcodes other than [NOERROR] are not supported by meshsight" };
  }
  if (options.take("recursion_desired") === false) return { unsupported: "recursion_desired: false is not supported by meshsight" };
  const host = server.host.includes(":") ? `[${server.host}]` : server.host;
  return { kind: "dns", spec: { server: `${host}:${server.port}`, recordType: type, minAnswers: 0 }, target: name };
}

function planGrpc(options: OptionReader, target: string): ModulePlan {
  if (!parseHostPort(target)) throw new BadTargetError(`target ${JSON.stringify(target)} is not host:port`);
  const spec: Record<string, unknown> = { tls: options.take("tls") === true };
  const service = options.take("service");
  if (typeof service === "string") spec.service = service;
  const tls = tlsOptions(options);
  if ("unsupported" in tls) return tls;
  if (tls.insecure) spec.tlsVerify = false;
  if (tls.serverName !== undefined) spec.serverName = tls.serverName;
  return { kind: "grpc", spec, target };
}

function tlsOptions(options: OptionReader): { insecure: boolean; serverName: string | undefined } | { unsupported: string } {
  const tls = options.take("tls_config");
  if (tls === undefined) return { insecure: false, serverName: undefined };
  if (!isRecord(tls)) return { unsupported: "tls_config: expected a mapping" };
  const other = Object.keys(tls).filter((key) => key !== "insecure_skip_verify" && key !== "server_name");
  if (other.length > 0) return { unsupported: `tls_config option(s) ${other.join(", ")} not supported by meshsight` };
  return { insecure: tls.insecure_skip_verify === true, serverName: typeof tls.server_name === "string" ? tls.server_name : undefined };
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
