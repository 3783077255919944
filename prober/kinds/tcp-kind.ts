import { addressGauges } from "./ip-address.ts";
import { performance } from "node:perf_hooks";
import { isIP, type Socket } from "node:net";
import { z } from "zod";
import type { ProbeContext, ProbeKind, ProbeOutcome } from "./kind.ts";
import { isEgressDenied } from "../egress/guarded-lookup.ts";
import { excerpt } from "./excerpt.ts";
import { failed, roundMs, succeeded } from "./outcome.ts";
import { compileRegex, parseHostPort, parseSpecWith, sourceIpAddressField } from "./spec-schema.ts";
import { connectSocket, SocketConnectError } from "./socket-connect.ts";
import { describeCertificateError, readTlsFacts, tlsGauges } from "./tls-info.ts";
import { runDialogue, type DialogueStep } from "./tcp-dialogue.ts";
import { loadTlsClient, parseTlsClient, TLS_CLIENT_FIELDS, type TlsClientOptions, type TlsClientSpec } from "./tls-client.ts";
import type { TLSSocket } from "node:tls";

export interface TcpSpec {
  send: string | undefined;
  expect: RegExp | undefined;
  tls: boolean;
  tlsVerify: boolean;
  serverName: string | undefined;
  maxReplyBytes: number;
  /** The local address to connect from (blackbox's source_ip_address); the system chooses when undefined. */
  sourceIpAddress: string | undefined;
  /** A dialogue instead of send/expect (prober/kinds/tcp-dialogue.ts); empty when not given. */
  steps: DialogueStep[];
  tlsClient: TlsClientSpec;
}

const schema = z.strictObject({
  ...TLS_CLIENT_FIELDS,
  send: z.string({ error: "expected the text to send" }).optional(),
  expect: z.string({ error: "expected a regular expression for the reply" }).optional(),
  tls: z.boolean({ error: "expected true or false" }).optional(),
  tlsVerify: z.boolean({ error: "expected true or false" }).optional(),
  serverName: z.string({ error: "expected a host name for TLS SNI" }).optional(),
  sourceIpAddress: sourceIpAddressField,
  maxReplyBytes: z.int({ error: "expected an integer 1..1048576" }).min(1).max(1024 * 1024).optional(),
  steps: z
    .array(
      z
        .strictObject({
          expect: z.string({ error: "expected a regular expression" }).optional(),
          labels: z
            .array(z.strictObject({ name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, { error: "expected a label name such as ssh_version" }), value: z.string({ error: "expected a value such as ${1}" }) }), { error: "expected a list of { name, value }" })
            .max(20)
            .optional(),
          expectBytes: z.string({ error: "expected the bytes to read, as text" }).min(1).max(4096).optional(),
          send: z.string({ error: "expected the text to send" }).optional(),
          sendHex: z.string({ error: "expected the bytes to send in hex" }).regex(/^(?:[0-9a-fA-F]{2})+$/, { error: 'expected the bytes to send in hex, e.g. "0000000804d2162f"' }).max(8192).optional(),
          starttls: z.boolean({ error: "expected true or false" }).optional(),
        })
        .refine((step) => step.send === undefined || step.sendHex === undefined, { error: "send and sendHex are exclusive" })
        .refine((step) => step.labels === undefined || step.expect !== undefined, { error: "labels take their values from the step's expect" }),
      { error: "expected a list of { expect, labels, expectBytes, send, sendHex, starttls } steps" },
    )
    .max(50)
    .optional(),
});

/** `tcp`: connects to host:port (optionally over TLS), optionally sends a line and expects a reply matching a regex. */
export const tcpKind: ProbeKind<TcpSpec> = {
  name: "tcp",
  parseSpec(raw) {
    const spec = parseSpecWith(schema, raw);
    return {
      send: spec.send,
      expect: spec.expect === undefined ? undefined : compileRegex(spec.expect, "expect"),
      tls: spec.tls ?? false,
      tlsVerify: spec.tlsVerify ?? true,
      serverName: spec.serverName,
      maxReplyBytes: spec.maxReplyBytes ?? 64 * 1024,
      sourceIpAddress: spec.sourceIpAddress,
      steps: (spec.steps ?? []).map((step, index) => ({
        expect: step.expect === undefined ? undefined : compileRegex(step.expect, `steps.${index}.expect`),
        labels: step.labels ?? [],
        // Blackbox compares expect_bytes as the bytes of the string written ([]byte(qr.ExpectBytes)).
        expectBytes: step.expectBytes === undefined ? undefined : Buffer.from(step.expectBytes, "utf8"),
        send: step.sendHex === undefined ? step.send : Buffer.from(step.sendHex, "hex"),
        starttls: step.starttls ?? false,
      })),
      tlsClient: parseTlsClient(spec),
    };
  },
  run: runTcp,
};

async function runTcp(spec: TcpSpec, target: string, context: ProbeContext): Promise<ProbeOutcome> {
  const address = parseHostPort(target);
  if (!address) return failed(`target ${JSON.stringify(target)} is not host:port`, {}, {});
  let client: TlsClientOptions;
  try {
    client = await loadTlsClient(spec.tlsClient, context.files);
  } catch (error) {
    return { status: "error", message: error instanceof Error ? error.message : String(error), phases: {}, metrics: {} };
  }
  const started = performance.now();
  // Known before connecting for a literal address; a name's address once connected (0 until then, as blackbox registers them).
  const metrics: Record<string, number> = addressGauges(isIP(address.host) === 0 ? undefined : address.host);
  const phasesSoFar = (extra: Record<string, number> = {}) => ({ ...extra, total: roundMs(performance.now() - started) });
  let socket: Socket;
  let connectPhases: Record<string, number>;
  try {
    const connected = await connectSocket({ ...address, tls: spec.tls, rejectUnauthorized: spec.tlsVerify, serverName: spec.serverName, ca: undefined, client, localAddress: spec.sourceIpAddress, signal: context.signal, egress: context.egress });
    socket = connected.socket;
    connectPhases = { dns: roundMs(connected.phases.dns), connect: roundMs(connected.phases.connect), ...(spec.tls ? { tls: roundMs(connected.phases.tls) } : {}) };
  } catch (error) {
    // Blackbox shows probe_dns_lookup_time_seconds whatever happened after resolving (prober/utils.go chooseProtocol).
    const dns: Record<string, number> = error instanceof SocketConnectError ? { dns: roundMs(error.phases.dns) } : {};
    return connectFailure(error, address.host, context, phasesSoFar(dns), metrics);
  }
  if (socket.remoteAddress !== undefined) Object.assign(metrics, addressGauges(socket.remoteAddress));
  // Blackbox registers these for every connected tcp probe, with or without query_response (prober/query_response.go).
  metrics.failed_due_to_regex = 0;
  metrics.failed_due_to_bytes = 0;
  // Blackbox's TLS gauges of a tcp probe, from the connection as it stands after any starttls (prober/query_response.go).
  const info: Record<string, Record<string, string>> = {};
  const recordTls = (tlsSocket: Socket) => {
    const gauges = tlsGauges(readTlsFacts(tlsSocket as TLSSocket), { hasLastChainExpiry: true, hasCipher: false });
    Object.assign(metrics, gauges.metrics);
    Object.assign(info, gauges.info);
  };
  const converse = async (): Promise<ProbeOutcome> => {
    if (spec.tls) recordTls(socket);
    if (spec.steps.length > 0) {
      const dialogue = await runDialogue(socket, spec.steps, { rejectUnauthorized: spec.tlsVerify, serverName: spec.serverName, client }, spec.maxReplyBytes, context);
      socket = dialogue.socket;
      if (dialogue.problem === "" && spec.steps.some((step) => step.starttls)) recordTls(socket);
      const phases = phasesSoFar(connectPhases);
      metrics.failed_due_to_regex = dialogue.failure === "regex" ? 1 : 0;
      metrics.failed_due_to_bytes = dialogue.failure === "bytes" ? 1 : 0;
      if (Object.keys(dialogue.expectInfo).length > 0) info.expect_info = dialogue.expectInfo;
      return dialogue.problem === "" ? succeeded(phases, metrics) : failed(dialogue.problem, phases, metrics);
    }
    if (spec.send !== undefined) socket.write(spec.send);
    if (!spec.expect) return succeeded(phasesSoFar(connectPhases), metrics);
    const replyStarted = performance.now();
    const reply = await readUntil(socket, spec.expect, spec.maxReplyBytes, context);
    const phases = phasesSoFar({ ...connectPhases, reply: roundMs(performance.now() - replyStarted) });
    if (reply.matched) return succeeded(phases, metrics);
    metrics.failed_due_to_regex = 1;
    const received = excerpt(reply.text);
    if (context.signal.aborted) return failed(`timed out after ${context.timeoutMs}ms waiting for a reply matching /${spec.expect.source}/; received ${received}`, phases, metrics);
    return failed(`reply did not match /${spec.expect.source}/ before ${reply.why}; received ${received}`, phases, metrics);
  };
  try {
    return { ...(await converse()), info };
  } finally {
    socket.destroy();
  }
}

/**
 * Reads until the accumulated text matches, the peer closes, the byte cap is reached or the signal aborts.
 * Matching goes through the bounded matcher and may wait for it: data arriving meanwhile is matched when
 * the running match ends, and a close or error waits for that last match before it ends the read.
 */
function readUntil(socket: Socket, pattern: RegExp, maxBytes: number, context: ProbeContext): Promise<{ matched: boolean; text: string; why: string }> {
  const { signal } = context;
  return new Promise((resolve) => {
    let text = "";
    let receivedBytes = 0;
    let isSettled = false;
    let isMatching = false;
    let stoppedBecause: string | undefined;
    const finish = (matched: boolean, why: string) => {
      if (isSettled) return;
      isSettled = true;
      socket.removeListener("data", onData);
      socket.removeListener("end", onEnd);
      socket.removeListener("error", onError);
      signal.removeEventListener("abort", onAbort);
      resolve({ matched, text, why });
    };
    const match = async () => {
      if (isMatching) return;
      isMatching = true;
      try {
        for (let matchedLength = -1; matchedLength !== text.length && !isSettled; ) {
          matchedLength = text.length;
          if (await context.patterns.test(pattern, text, signal)) return finish(true, "");
        }
      } catch (error) {
        return finish(false, `the expect pattern was stopped (${error instanceof Error ? error.message : String(error)})`);
      } finally {
        isMatching = false;
      }
      if (receivedBytes >= maxBytes) finish(false, `${maxBytes} bytes (maxReplyBytes)`);
      else if (stoppedBecause !== undefined) finish(false, stoppedBecause);
    };
    const stop = (why: string) => {
      if (isMatching) stoppedBecause = why;
      else finish(false, why);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      receivedBytes += chunk.length;
      if (receivedBytes >= maxBytes) socket.pause();
      void match();
    };
    const onEnd = () => stop("the server closed the connection");
    const onError = (error: Error) => stop(`a socket error (${error.message})`);
    const onAbort = () => finish(false, "the timeout");
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("error", onError);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** A connect that did not succeed: `error` when the egress policy refused it (the case's setup), else a failure of the target. */
export function connectFailure(error: unknown, host: string, context: ProbeContext, phases: Record<string, number>, metrics: Record<string, number>): ProbeOutcome {
  if (error instanceof SocketConnectError && isEgressDenied(error.cause)) return { status: "error", message: `${error.step}: ${error.message}`, phases, metrics };
  return failed(describeConnectFailure(error, host, context), phases, metrics);
}

function describeConnectFailure(error: unknown, host: string, context: ProbeContext): string {
  if (!(error instanceof SocketConnectError)) return error instanceof Error ? error.message : String(error);
  if (context.signal.aborted) return `timed out after ${context.timeoutMs}ms ${error.step}`;
  if (/CERT|SELF_SIGNED|UNABLE_TO|ALTNAME/.test(error.code)) return `${error.step}: ${describeCertificateError(error.code, host)}`;
  return `${error.step} failed: ${error.message}`;
}
