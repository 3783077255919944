import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { parseDurationMs } from "../duration.ts";
import { InvalidProbeSpecError } from "../kinds/kind.ts";
import { compileBodyCel } from "../kinds/http/body-cel.ts";

/**
 * A blackbox_exporter module as its modules file writes it (config/config.go of
 * https://github.com/prometheus/blackbox_exporter): the prober name, an optional timeout and the
 * prober's own options, kept as written so module-plan.ts can refuse what it does not map.
 */
export interface BlackboxModule {
  name: string;
  prober: string;
  timeoutMs: number | undefined;
  /** The options under the key named like the prober (`http:`, `tcp:`, `dns:`, `grpc:`, `icmp:`). */
  options: Record<string, unknown>;
}

/** A modules file has a handful of modules; the cap keeps a wrong file from filling memory. */
export const MAX_BLACKBOX_MODULES = 1_000;

export class BlackboxConfigError extends Error {
  override readonly name = "BlackboxConfigError";
}

/**
 * The modules of blackbox_exporter's shipped blackbox.yml
 * (https://github.com/prometheus/blackbox_exporter/blob/master/blackbox.yml), so its module names work
 * without a file, plus dns_udp and dns_tcp (the DNS modules of its example.yml, under short names).
 * test/fixtures/blackbox/blackbox.yml is that file unchanged; a test checks both agree.
 */
export const STANDARD_MODULES_YAML = `modules:
  http_2xx: { prober: http, http: { preferred_ip_protocol: ip4 } }
  http_post_2xx: { prober: http, http: { method: POST } }
  tcp_connect: { prober: tcp }
  pop3s_banner: { prober: tcp, tcp: { query_response: [{ expect: "^+OK" }], tls: true, tls_config: { insecure_skip_verify: false } } }
  grpc: { prober: grpc, grpc: { tls: true, preferred_ip_protocol: ip4 } }
  grpc_plain: { prober: grpc, grpc: { tls: false, service: service1 } }
  ssh_banner: { prober: tcp, tcp: { query_response: [{ expect: "^SSH-2.0-" }, { send: SSH-2.0-blackbox-ssh-check }] } }
  ssh_banner_extract:
    prober: tcp
    timeout: 5s
    tcp:
      query_response:
        - { expect: "^SSH-2.0-([^ -]+)(?: (.*))?$", labels: [{ name: ssh_version, value: "\${1}" }, { name: ssh_comments, value: "\${2}" }] }
  irc_banner:
    prober: tcp
    tcp:
      query_response: [{ send: NICK prober }, { send: "USER prober prober prober :prober" }, { expect: "PING :([^ ]+)", send: "PONG \${1}" }, { expect: "^:[^ ]+ 001" }]
  icmp: { prober: icmp }
  icmp_ttl5: { prober: icmp, timeout: 5s, icmp: { ttl: 5 } }
  websocket: { prober: websocket }
  http_3xx: { prober: http, http: { preferred_ip_protocol: ip4, enable_http3: true, enable_http2: false, valid_http_versions: [HTTP/3.0] } }
  postgresql: { prober: tcp, tcp: { query_response: [{ send: !!binary AAAACATSFi8= }, { expect_bytes: S }, { starttls: true }] } }
  dns_udp: { prober: dns, dns: { query_name: "example.com", query_type: A } }
  dns_tcp: { prober: dns, dns: { transport_protocol: tcp, query_name: "example.com", query_type: A } }
`;

export const STANDARD_MODULES: ReadonlyMap<string, BlackboxModule> = parseBlackboxModules(STANDARD_MODULES_YAML, "the standard modules");

export async function loadBlackboxModules(path: string): Promise<Map<string, BlackboxModule>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new BlackboxConfigError(`cannot read the blackbox modules file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseBlackboxModules(text, path);
}

/** Parses a modules file; a module that is not a mapping with a `prober` is an error naming it. */
export function parseBlackboxModules(text: string, source: string): Map<string, BlackboxModule> {
  let document: unknown;
  try {
    // !!binary is how blackbox.yml writes non-text bytes (its postgresql module); Go's yaml.v3 reads it too.
    document = parseYaml(text, { customTags: ["binary"], maxAliasCount: 100 });
  } catch (error) {
    throw new BlackboxConfigError(`${source}: not YAML (${error instanceof Error ? error.message : String(error)})`);
  }
  const modules = isRecord(document) ? document.modules : undefined;
  if (!isRecord(modules)) throw new BlackboxConfigError(`${source}: expected a "modules:" mapping of module names`);
  const entries = Object.entries(modules);
  if (entries.length > MAX_BLACKBOX_MODULES) throw new BlackboxConfigError(`${source}: ${entries.length} modules, at most ${MAX_BLACKBOX_MODULES}`);
  const result = new Map<string, BlackboxModule>();
  for (const [name, raw] of entries) result.set(name, parseModule(name, raw, source));
  return result;
}

function parseModule(name: string, raw: unknown, source: string): BlackboxModule {
  const where = `${source}: module ${name}`;
  if (!isRecord(raw) || typeof raw.prober !== "string") throw new BlackboxConfigError(`${where}: expected a mapping with "prober:"`);
  let timeoutMs: number | undefined;
  if (raw.timeout !== undefined) {
    const parsed = typeof raw.timeout === "string" ? parseDurationMs(raw.timeout) : null;
    if (parsed === null) throw new BlackboxConfigError(`${where}: timeout: expected a duration such as "5s"`);
    timeoutMs = parsed > 0 ? parsed : undefined;
  }
  const options = raw[raw.prober];
  if (options !== undefined && options !== null && !isRecord(options)) throw new BlackboxConfigError(`${where}: ${raw.prober}: expected a mapping`);
  if (raw.prober === "http" && isRecord(options)) compileCelOptions(options, `${where}: http`);
  if (isRecord(options) && isRecord(options.tls_config)) checkTlsConfig(options.tls_config, `${where}: ${raw.prober}: tls_config`);
  return { name, prober: raw.prober, timeoutMs, options: options ?? {} };
}

/**
 * prometheus/common's TLSConfig.Validate, which runs while blackbox reads the file: one source per PEM
 * (inline, file or secret ref) and a client certificate only with its key, in its words.
 */
function checkTlsConfig(tls: Record<string, unknown>, where: string): void {
  const given = (key: string) => tls[key] !== undefined && tls[key] !== null && tls[key] !== "";
  const count = (kind: string) => [kind, `${kind}_file`, `${kind}_ref`].filter(given).length;
  const problem =
    count("ca") > 1 ? "at most one of ca, ca_file & ca_ref must be configured"
    : count("cert") > 1 ? "at most one of cert, cert_file & cert_ref must be configured"
    : count("key") > 1 ? "at most one of key and key_file must be configured"
    : count("cert") > 0 && count("key") === 0 ? "exactly one of key or key_file must be configured when a client certificate is configured"
    : count("key") > 0 && count("cert") === 0 ? "exactly one of cert or cert_file must be configured when a client key is configured"
    : "";
  if (problem !== "") throw new BlackboxConfigError(`${where}: ${problem}`);
}

/** blackbox compiles CEL expressions while it reads the file (config/config.go CELProgram), refusing the file for one that does not compile. */
function compileCelOptions(options: Record<string, unknown>, where: string): void {
  for (const key of ["fail_if_body_json_matches_cel", "fail_if_body_json_not_matches_cel"]) {
    const expression = options[key];
    if (expression === undefined) continue;
    if (typeof expression !== "string") throw new BlackboxConfigError(`${where}: ${key}: expected a CEL expression`);
    try {
      compileBodyCel(expression, key);
    } catch (error) {
      if (error instanceof InvalidProbeSpecError) throw new BlackboxConfigError(`${where}: ${error.message}`);
      throw error;
    }
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
