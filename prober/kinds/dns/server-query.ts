import { addressGauges } from "../ip-address.ts";
import { performance } from "node:perf_hooks";
import { isEgressDenied } from "../../egress/guarded-lookup.ts";
import type { ProbeContext, ProbeOutcome } from "../kind.ts";
import { failed, roundMs, succeeded } from "../outcome.ts";
import { loadTlsClient, type TlsClientSpec } from "../tls-client.ts";
import { DnsExchangeError, exchangeDns, type DnsTransport } from "./dns-exchange.ts";
import { DNS_TYPES, rcodeName, recordText, type DnsRecord } from "./dns-message.ts";
import { answersProblem, type AnswerMatcher } from "./expected-answers.ts";
import { validateRecords, type RecordValidator } from "./record-validation.ts";

/** A question to one DNS server and what its answer must be, as blackbox_exporter's dns prober checks it. */
export interface ServerQuery {
  host: string;
  port: number;
  transport: DnsTransport;
  type: number;
  class: number;
  recursionDesired: boolean;
  /** The local address to ask from (blackbox's source_ip_address); the system chooses when undefined. */
  sourceIpAddress: string | undefined;
  /** How a DNS-over-TLS server (transport tls) is checked: blackbox's dns tls_config. */
  tls: { verify: boolean; serverName: string | undefined; client: TlsClientSpec };
  validRcodes: readonly number[];
  validate: { answer: RecordValidator; authority: RecordValidator; additional: RecordValidator };
  /** meshsight's own checks on the answers of the asked type, written as text (see answerText). */
  minAnswers: number;
  expectedAnswers: readonly AnswerMatcher[];
}

/**
 * Asks `name` at the server with meshsight's own DNS client, so the rcode, all three sections and their
 * records are seen as blackbox_exporter sees them (prober/dns.go): the gauges dns_answer_rrs,
 * dns_authority_rrs, dns_additional_rrs, dns_query_succeeded, ip_protocol and, for SOA, dns_serial; the
 * phases resolve, connect and request.
 */
export async function queryServer(query: ServerQuery, name: string, asked: string, context: ProbeContext): Promise<ProbeOutcome> {
  let tlsClient;
  try {
    tlsClient = query.transport === "tls" ? await loadTlsClient(query.tls.client, context.files) : {};
  } catch (error) {
    return { status: "error", message: error instanceof Error ? error.message : String(error), phases: {}, metrics: {} };
  }
  const started = performance.now();
  const total = () => roundMs(performance.now() - started);
  const tls = { rejectUnauthorized: query.tls.verify, serverName: query.tls.serverName, client: tlsClient };
  let exchanged;
  try {
    exchanged = await exchangeDns({ host: query.host, port: query.port, transport: query.transport, sourceIpAddress: query.sourceIpAddress, tls }, { name, type: query.type, class: query.class, recursionDesired: query.recursionDesired }, context);
  } catch (error) {
    if (isEgressDenied(error)) return { status: "error", message: `asking ${asked}: ${error.message}`, phases: {}, metrics: {} };
    const exchangeError = error instanceof DnsExchangeError ? error : undefined;
    const phases = exchangeError ? { ...roundPhases(exchangeError.phases), total: total() } : { total: total() };
    // Blackbox registers these before asking, and the address gauges before resolving: 0 until known (prober/dns.go, utils.go).
    const unanswered = { dns_answer_rrs: 0, dns_authority_rrs: 0, dns_additional_rrs: 0, dns_query_succeeded: 0, ...addressGauges(exchangeError?.address) };
    if (context.signal.aborted) return failed(`timed out after ${context.timeoutMs}ms asking ${asked}`, phases, unanswered);
    return failed(`asking ${asked} failed: ${error instanceof Error ? error.message : String(error)}`, phases, unanswered);
  }
  const { response, address } = exchanged;
  const phases = { ...roundPhases(exchanged.phases), total: total() };
  const metrics: Record<string, number> = {
    dns_answer_rrs: response.answers.length,
    dns_authority_rrs: response.authorities.length,
    dns_additional_rrs: response.additionals.length,
    dns_query_succeeded: 1,
    ...addressGauges(address),
  };
  if (query.type === DNS_TYPES.SOA) metrics.dns_serial = response.answers.reduce((serial, record) => record.serial ?? serial, 0);
  if (!query.validRcodes.includes(response.rcode)) return failed(`asking ${asked} failed: ${describeRcode(response.rcode)}`, phases, metrics);
  const problem = answerProblem(query, response.answers, asked) || (await sectionProblem(query, response, context));
  return problem === "" ? succeeded(phases, metrics) : failed(problem, phases, metrics);
}

function roundPhases(phases: { resolve: number; connect: number; request: number }): Record<string, number> {
  return { resolve: roundMs(phases.resolve), connect: roundMs(phases.connect), request: roundMs(phases.request) };
}

function answerProblem(query: ServerQuery, records: readonly DnsRecord[], asked: string): string {
  const answers = records.filter((record) => query.type === DNS_TYPES.ANY || record.type === query.type).map(answerText);
  if (answers.length === 0 && query.minAnswers > 0) return `asking ${asked} failed: the name exists but has no records of that type (NODATA)`;
  return answersProblem(answers, query.minAnswers, query.expectedAnswers, asked);
}

async function sectionProblem(query: ServerQuery, response: { answers: DnsRecord[]; authorities: DnsRecord[]; additionals: DnsRecord[] }, context: ProbeContext): Promise<string> {
  const sections = [
    ["answer", response.answers, query.validate.answer],
    ["authority", response.authorities, query.validate.authority],
    ["additional", response.additionals, query.validate.additional],
  ] as const;
  for (const [section, records, validator] of sections) {
    const problem = await validateRecords(records.map(recordText), validator, context.patterns, context.signal);
    if (problem !== "") return `${section} records: ${problem}`;
  }
  return "";
}

/**
 * An answer as the dns kind's expectedAnswers compare it (docs/probes.md): A/AAAA the address, names
 * without the final dot, MX "10 mail.example.com", SRV "priority weight port target", TXT its strings joined.
 */
function answerText(record: DnsRecord): string {
  if (record.strings) return record.strings.join("");
  return record.data.replace(/\.$/, "");
}

function describeRcode(rcode: number): string {
  switch (rcode) {
    case 0:
      return "the server answered NOERROR, which is not one of the valid rcodes";
    case 2:
      return "the server failed to answer (SERVFAIL)";
    case 3:
      return "the name does not exist (NXDOMAIN)";
    case 5:
      return "the server refused the query (REFUSED)";
    default:
      return `the server answered ${rcodeName(rcode)}, which is not one of the valid rcodes`;
  }
}
