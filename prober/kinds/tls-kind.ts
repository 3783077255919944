import { isIP } from "node:net";
import { performance } from "node:perf_hooks";
import { checkServerIdentity, type TLSSocket } from "node:tls";
import { z } from "zod";
import type { ProbeContext, ProbeKind, ProbeOutcome } from "./kind.ts";
import { failed, roundMs, succeeded } from "./outcome.ts";
import { connectSocket } from "./socket-connect.ts";
import { parseHostPort, parseSpecWith } from "./spec-schema.ts";
import { connectFailure } from "./tcp-kind.ts";
import { describeCertificateError, readTlsFacts } from "./tls-info.ts";

export interface TlsSpec {
  minDaysLeft: number;
  /** PEM bundle the chain must lead to; system CAs when neither this nor caFile is given. */
  caPem: string | undefined;
  /** Inside prober.filesDir; read at every run, so a rotated bundle is picked up without reloading the case. */
  caFile: string | undefined;
  serverName: string | undefined;
  verifyChain: boolean;
  verifyHostname: boolean;
}

const schema = z.strictObject({
  minDaysLeft: z.number({ error: "expected a number of days" }).min(0).max(3650).optional(),
  caPem: z.string({ error: "expected PEM text" }).includes("-----BEGIN CERTIFICATE-----", { error: "expected PEM text with -----BEGIN CERTIFICATE-----" }).optional(),
  caFile: z.string({ error: "expected a file path" }).min(1).optional(),
  serverName: z.string({ error: "expected a host name" }).min(1).optional(),
  verifyChain: z.boolean({ error: "expected true or false" }).optional(),
  verifyHostname: z.boolean({ error: "expected true or false" }).optional(),
});

const DAY_SECONDS = 86_400;

/**
 * `tls`: a handshake with host:port, then the checks certificate alerts are made of: days until the leaf
 * expires (at least minDaysLeft), a chain leading to a trusted CA, and the certificate matching the name.
 * The handshake itself never rejects, so an expiring or untrusted certificate still reports its expiry.
 */
export const tlsKind: ProbeKind<TlsSpec> = {
  name: "tls",
  parseSpec(raw) {
    const spec = parseSpecWith(schema, raw);
    return {
      minDaysLeft: spec.minDaysLeft ?? 14,
      caPem: spec.caPem,
      caFile: spec.caFile,
      serverName: spec.serverName,
      verifyChain: spec.verifyChain ?? true,
      verifyHostname: spec.verifyHostname ?? true,
    };
  },
  run: runTls,
};

async function runTls(spec: TlsSpec, target: string, context: ProbeContext): Promise<ProbeOutcome> {
  const address = parseHostPort(target, 443);
  if (!address) return failed(`target ${JSON.stringify(target)} is not host[:port]`, {}, {});
  let ca = spec.caPem;
  if (spec.caFile !== undefined) {
    try {
      ca = await context.files.readText("caFile", spec.caFile);
    } catch (error) {
      return { status: "error", message: error instanceof Error ? error.message : String(error), phases: {}, metrics: {} };
    }
  }
  const started = performance.now();
  const serverName = spec.serverName ?? address.host;
  let socket: TLSSocket;
  let phases: Record<string, number>;
  try {
    const connected = await connectSocket({ ...address, tls: true, rejectUnauthorized: false, serverName: isIP(serverName) === 0 ? serverName : undefined, ca, signal: context.signal, egress: context.egress });
    socket = connected.socket as TLSSocket;
    phases = { dns: roundMs(connected.phases.dns), connect: roundMs(connected.phases.connect), tls: roundMs(connected.phases.tls), total: roundMs(performance.now() - started) };
  } catch (error) {
    return connectFailure(error, address.host, context, { total: roundMs(performance.now() - started) }, {});
  }
  try {
    const facts = readTlsFacts(socket);
    const metrics = { ssl_earliest_cert_expiry: facts.earliestExpirySeconds, tls_version_info: facts.version };
    const daysLeft = (facts.leafExpirySeconds - Date.now() / 1000) / DAY_SECONDS;
    const expiry = new Date(facts.leafExpirySeconds * 1000).toISOString();
    if (daysLeft <= 0) return failed(`the certificate of ${serverName} expired on ${expiry}`, phases, metrics);
    if (daysLeft < spec.minDaysLeft) return failed(`the certificate of ${serverName} expires in ${daysLeft.toFixed(1)} days (${expiry}), less than minDaysLeft ${spec.minDaysLeft}`, phases, metrics);
    if (spec.verifyChain && !facts.authorized) return failed(describeCertificateError(facts.authorizationError, serverName), phases, metrics);
    if (spec.verifyHostname) {
      const mismatch = checkServerIdentity(serverName, socket.getPeerCertificate());
      if (mismatch) return failed(`the certificate does not match ${serverName}: ${mismatch.message}`, phases, metrics);
    }
    return succeeded(phases, metrics);
  } finally {
    socket.destroy();
  }
}
