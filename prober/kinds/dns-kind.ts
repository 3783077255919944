import { Resolver } from "node:dns/promises";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { InvalidProbeSpecError, type ProbeContext, type ProbeKind, type ProbeOutcome } from "./kind.ts";
import { failed, roundMs, succeeded } from "./outcome.ts";
import { compileRegex, parseHostPort, parseSpecWith, sourceIpAddressField } from "./spec-schema.ts";
import { parseTlsClient, TLS_CLIENT_FIELDS } from "./tls-client.ts";
import { DNS_CLASSES, DNS_RCODES, DNS_TYPES } from "./dns/dns-message.ts";
import { answersProblem, toAnswerMatcher, type AnswerMatcher } from "./dns/expected-answers.ts";
import type { RecordValidator } from "./dns/record-validation.ts";
import { queryServer, type ServerQuery } from "./dns/server-query.ts";

/** The types the system resolver path can ask for; with a `server`, any type of DNS_TYPES. */
const RESOLVER_TYPES = ["A", "AAAA", "CNAME", "MX", "TXT", "SRV"] as const;
export type DnsRecordType = (typeof RESOLVER_TYPES)[number];

export interface DnsSpec {
  recordType: string;
  /** "host:port" of the server to ask (port 53 by default); the system resolver when absent. */
  server: string | undefined;
  expectedAnswers: AnswerMatcher[];
  minAnswers: number;
  /** How the server is asked and what its answer must be; only with a server (the resolver hides these). */
  atServer: Omit<ServerQuery, "host" | "port" | "minAnswers" | "expectedAnswers" | "type">;
}

const ASKABLE_TYPES = Object.keys(DNS_TYPES).filter((type) => type !== "OPT" && type !== "AXFR");
const patternList = z.array(z.string({ error: "expected a regular expression" })).max(50).optional();
const validatorSchema = z
  .strictObject({ failIfMatches: patternList, failIfAllMatch: patternList, failIfNotMatches: patternList, failIfNoneMatches: patternList }, { error: "expected { failIfMatches, failIfAllMatch, failIfNotMatches, failIfNoneMatches }" })
  .optional();

const schema = z.strictObject({
  ...TLS_CLIENT_FIELDS,
  tlsVerify: z.boolean({ error: "expected true or false" }).optional(),
  serverName: z.string({ error: "expected a TLS server name" }).min(1).optional(),
  recordType: z.string({ error: "expected a record type" }).optional(),
  server: z.string({ error: 'expected "host:port" of a DNS server' }).optional(),
  expectedAnswers: z.array(z.string({ error: 'expected an answer ("10.0.0.1") or a regex ("/^10\\./")' })).max(50).optional(),
  minAnswers: z.int({ error: "expected an integer 0..1000" }).min(0).max(1000).optional(),
  transport: z.enum(["udp", "tcp", "tls"], { error: "expected udp, tcp or tls" }).optional(),
  queryClass: z.enum(Object.keys(DNS_CLASSES), { error: `expected one of ${Object.keys(DNS_CLASSES).join(", ")}` }).optional(),
  recursionDesired: z.boolean({ error: "expected true or false" }).optional(),
  sourceIpAddress: sourceIpAddressField,
  validRcodes: z.array(z.enum(Object.keys(DNS_RCODES), { error: `expected rcodes among ${Object.keys(DNS_RCODES).join(", ")}` })).min(1).max(16).optional(),
  validateAnswer: validatorSchema,
  validateAuthority: validatorSchema,
  validateAdditional: validatorSchema,
});

/** Fields that only a query to a named server can honour. */
const SERVER_ONLY_FIELDS = ["transport", "queryClass", "recursionDesired", "sourceIpAddress", "validRcodes", "validateAnswer", "validateAuthority", "validateAdditional"] as const;
/** Fields that only DNS over TLS (transport tls) uses. */
const TLS_ONLY_FIELDS = ["tlsVerify", "serverName", ...(Object.keys(TLS_CLIENT_FIELDS) as Array<keyof typeof TLS_CLIENT_FIELDS>)] as const;

/**
 * `dns`: asks for one record type of the target name and checks the answers. Answers are compared as
 * text: A/AAAA/CNAME as the address or name, MX as "10 mail.example.com", TXT with its strings joined,
 * SRV as "priority weight port target" (the zone-file order). With a `server`, meshsight's own DNS
 * client asks it (prober/kinds/dns/server-query.ts), which also sees the rcode and every section.
 */
export const dnsKind: ProbeKind<DnsSpec> = {
  name: "dns",
  parseSpec(raw) {
    const spec = parseSpecWith(schema, raw);
    if (spec.server !== undefined && !parseHostPort(spec.server, 53)) {
      throw new InvalidProbeSpecError(`server: expected "host:port" of a DNS server, got ${JSON.stringify(spec.server)}`);
    }
    const recordType = (spec.recordType ?? "A").toUpperCase();
    const types: readonly string[] = spec.server === undefined ? RESOLVER_TYPES : ASKABLE_TYPES;
    if (!types.includes(recordType)) {
      throw new InvalidProbeSpecError(`recordType: expected ${spec.server === undefined ? "A, AAAA, CNAME, MX, TXT or SRV (other types need a server)" : types.join(", ")}, got ${JSON.stringify(spec.recordType)}`);
    }
    const serverOnly = spec.server === undefined ? SERVER_ONLY_FIELDS.find((field) => spec[field] !== undefined) : undefined;
    if (serverOnly) throw new InvalidProbeSpecError(`${serverOnly}: needs a server (the system resolver does not show the whole answer)`);
    const tlsOnly = spec.transport === "tls" ? undefined : TLS_ONLY_FIELDS.find((field) => spec[field] !== undefined);
    if (tlsOnly) throw new InvalidProbeSpecError(`${tlsOnly}: needs transport tls (DNS over TLS)`);
    return {
      recordType,
      server: spec.server,
      expectedAnswers: (spec.expectedAnswers ?? []).map((text, index) => toAnswerMatcher(text, `expectedAnswers.${index}`)),
      minAnswers: spec.minAnswers ?? 1,
      atServer: {
        transport: spec.transport ?? "udp",
        class: DNS_CLASSES[spec.queryClass ?? "IN"] ?? 1,
        recursionDesired: spec.recursionDesired ?? true,
        sourceIpAddress: spec.sourceIpAddress,
        tls: { verify: spec.tlsVerify ?? true, serverName: spec.serverName, client: parseTlsClient(spec) },
        validRcodes: (spec.validRcodes ?? ["NOERROR"]).map((name) => DNS_RCODES[name] ?? 0),
        validate: { answer: toValidator(spec.validateAnswer, "validateAnswer"), authority: toValidator(spec.validateAuthority, "validateAuthority"), additional: toValidator(spec.validateAdditional, "validateAdditional") },
      },
    };
  },
  run: runDns,
};

function toValidator(raw: z.infer<typeof validatorSchema>, field: string): RecordValidator {
  const compile = (patterns: string[] | undefined, key: string) => (patterns ?? []).map((pattern, index) => compileRegex(pattern, `${field}.${key}.${index}`));
  return {
    failIfMatches: compile(raw?.failIfMatches, "failIfMatches"),
    failIfAllMatch: compile(raw?.failIfAllMatch, "failIfAllMatch"),
    failIfNotMatches: compile(raw?.failIfNotMatches, "failIfNotMatches"),
    failIfNoneMatches: compile(raw?.failIfNoneMatches, "failIfNoneMatches"),
  };
}

async function runDns(spec: DnsSpec, target: string, context: ProbeContext): Promise<ProbeOutcome> {
  const server = spec.server === undefined ? undefined : parseHostPort(spec.server, 53);
  const asked = `${spec.recordType} ${target}${spec.server ? ` at ${spec.server}` : ""}`;
  if (server) {
    const query = { ...spec.atServer, ...server, type: DNS_TYPES[spec.recordType] ?? 1, minAnswers: spec.minAnswers, expectedAnswers: spec.expectedAnswers };
    return queryServer(query, target, asked, context);
  }
  return askSystemResolver(spec, target, asked, context);
}

/** Without a server the system's resolver (resolv.conf, search domains) answers, as applications see names. */
async function askSystemResolver(spec: DnsSpec, target: string, asked: string, context: ProbeContext): Promise<ProbeOutcome> {
  // One try within the probe's own timeout: the runner's retries, not the resolver's, decide how often to ask.
  const resolver = new Resolver({ timeout: context.timeoutMs, tries: 1 });
  const cancel = () => resolver.cancel();
  context.signal.addEventListener("abort", cancel, { once: true });
  const started = performance.now();
  let answers: string[];
  try {
    answers = await resolve(resolver, target, spec.recordType as DnsRecordType);
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
    const phases = { resolve: roundMs(performance.now() - started), total: roundMs(performance.now() - started) };
    if (context.signal.aborted || code === "ECANCELLED") return failed(`timed out after ${context.timeoutMs}ms asking ${asked}`, phases, { dns_answer_rrs: 0, dns_query_succeeded: 0 });
    const answered = { dns_answer_rrs: 0, dns_query_succeeded: ANSWERED_CODES.has(code) ? 1 : 0 };
    if (code === "ENODATA" && spec.minAnswers === 0 && spec.expectedAnswers.length === 0) return succeeded(phases, answered);
    return failed(`asking ${asked} failed: ${describeDnsError(code, error)}`, phases, answered);
  } finally {
    context.signal.removeEventListener("abort", cancel);
  }
  const elapsed = roundMs(performance.now() - started);
  const phases = { resolve: elapsed, total: elapsed };
  const metrics = { dns_answer_rrs: answers.length, dns_query_succeeded: 1 };
  const problem = answersProblem(answers, spec.minAnswers, spec.expectedAnswers, asked);
  return problem === "" ? succeeded(phases, metrics) : failed(problem, phases, metrics);
}

/**
 * Errors that mean the server answered (with NXDOMAIN, no data, SERVFAIL or REFUSED): blackbox's
 * probe_dns_query_succeeded is 1 for any answer and 0 only when none came (prober/dns.go).
 */
const ANSWERED_CODES = new Set(["ENOTFOUND", "ENODATA", "ESERVFAIL", "EREFUSED"]);

async function resolve(resolver: Resolver, name: string, type: DnsRecordType): Promise<string[]> {
  switch (type) {
    case "A":
      return resolver.resolve4(name);
    case "AAAA":
      return resolver.resolve6(name);
    case "CNAME":
      return resolver.resolveCname(name);
    case "MX":
      return (await resolver.resolveMx(name)).map((record) => `${record.priority} ${record.exchange}`);
    case "TXT":
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(""));
    case "SRV":
      return (await resolver.resolveSrv(name)).map((record) => `${record.priority} ${record.weight} ${record.port} ${record.name}`);
  }
}

function describeDnsError(code: string, error: unknown): string {
  switch (code) {
    case "ENOTFOUND":
      return "the name does not exist (NXDOMAIN)";
    case "ENODATA":
      return "the name exists but has no records of that type (NODATA)";
    case "ESERVFAIL":
      return "the server failed to answer (SERVFAIL)";
    case "EREFUSED":
      return "the server refused the query (REFUSED)";
    case "ETIMEOUT":
      return "no answer from the server (ETIMEOUT)";
    case "ECONNREFUSED":
      return "the server's port is closed (ECONNREFUSED)";
    default:
      return `${error instanceof Error ? error.message : String(error)}${code ? ` (${code})` : ""}`;
  }
}
