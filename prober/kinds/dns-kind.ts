import { Resolver } from "node:dns/promises";
import { EgressDeniedError } from "../egress/egress-policy.ts";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { InvalidProbeSpecError, type ProbeContext, type ProbeKind, type ProbeOutcome } from "./kind.ts";
import { excerpt } from "./excerpt.ts";
import { failed, roundMs, succeeded } from "./outcome.ts";
import { compileRegex, parseHostPort, parseSpecWith } from "./spec-schema.ts";

export type DnsRecordType = "A" | "AAAA" | "CNAME" | "MX" | "TXT" | "SRV";

/** One expected answer: exact text, or a regex when written "/.../". */
type AnswerMatcher = { text: string; matches: (answer: string) => boolean };

export interface DnsSpec {
  recordType: DnsRecordType;
  /** "host:port" of the server to ask (port 53 by default); the system resolver when absent. */
  server: string | undefined;
  expectedAnswers: AnswerMatcher[];
  minAnswers: number;
}

const schema = z.strictObject({
  recordType: z.enum(["A", "AAAA", "CNAME", "MX", "TXT", "SRV"], { error: "expected A, AAAA, CNAME, MX, TXT or SRV" }).optional(),
  server: z.string({ error: 'expected "host:port" of a DNS server' }).optional(),
  expectedAnswers: z.array(z.string({ error: 'expected an answer ("10.0.0.1") or a regex ("/^10\\./")' })).max(50).optional(),
  minAnswers: z.int({ error: "expected an integer 0..1000" }).min(0).max(1000).optional(),
});

/**
 * `dns`: asks for one record type of the target name and checks the answers. Answers are compared as
 * text: A/AAAA/CNAME as the address or name, MX as "10 mail.example.com", TXT with its strings joined,
 * SRV as "priority weight port target" (the zone-file order).
 */
export const dnsKind: ProbeKind<DnsSpec> = {
  name: "dns",
  parseSpec(raw) {
    const spec = parseSpecWith(schema, raw);
    if (spec.server !== undefined && !parseHostPort(spec.server, 53)) {
      throw new InvalidProbeSpecError(`server: expected "host:port" of a DNS server, got ${JSON.stringify(spec.server)}`);
    }
    return {
      recordType: spec.recordType ?? "A",
      server: spec.server,
      expectedAnswers: (spec.expectedAnswers ?? []).map((text, index) => toMatcher(text, `expectedAnswers.${index}`)),
      minAnswers: spec.minAnswers ?? 1,
    };
  },
  run: runDns,
};

function toMatcher(text: string, field: string): AnswerMatcher {
  const regexBody = /^\/(.*)\/$/s.exec(text);
  if (regexBody?.[1] !== undefined) {
    const pattern = compileRegex(regexBody[1], field);
    return { text, matches: (answer) => pattern.test(answer) };
  }
  return { text, matches: (answer) => answer === text };
}

async function runDns(spec: DnsSpec, target: string, context: ProbeContext): Promise<ProbeOutcome> {
  // One try within the probe's own timeout: the runner's retries, not the resolver's, decide how often to ask.
  const resolver = new Resolver({ timeout: context.timeoutMs, tries: 1 });
  const server = spec.server === undefined ? undefined : parseHostPort(spec.server, 53);
  if (server) {
    // Queries go to the named server: it is a destination like any other (the system resolver is not).
    const decision = await context.egress.check(server.host, server.host, server.port);
    if (!decision.isAllowed) return { status: "error", message: `asking ${spec.server}: ${new EgressDeniedError(server.host, server.host, server.port, decision.rule).message}`, phases: {}, metrics: {} };
  }
  if (server) resolver.setServers([server.host.includes(":") ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`]);
  const cancel = () => resolver.cancel();
  context.signal.addEventListener("abort", cancel, { once: true });
  const asked = `${spec.recordType} ${target}${spec.server ? ` at ${spec.server}` : ""}`;
  const started = performance.now();
  let answers: string[];
  try {
    answers = await resolve(resolver, target, spec.recordType);
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
  if (answers.length < spec.minAnswers) return failed(`${asked} returned ${answers.length} answers, expected at least ${spec.minAnswers}`, phases, metrics);
  for (const expected of spec.expectedAnswers) {
    if (!answers.some((answer) => expected.matches(answer))) {
      return failed(`${asked}: no answer matches ${JSON.stringify(expected.text)}; got [${answers.slice(0, 10).map((answer) => excerpt(answer)).join(",")}${answers.length > 10 ? ",..." : ""}]`, phases, metrics);
    }
  }
  return succeeded(phases, metrics);
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
