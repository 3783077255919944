import { performance } from "node:perf_hooks";
import { createSecureContext, type TLSSocket } from "node:tls";
import { credentials, Metadata, status as GrpcStatus, type ChannelCredentials, type Client, type ClientUnaryCall, type ServiceError } from "@grpc/grpc-js";
import { z } from "zod";
import { isEgressDenied, resolveAllowed } from "../egress/guarded-lookup.ts";
import { addressGauges } from "./ip-address.ts";
import { excerpt } from "./excerpt.ts";
import { loadHealthService, SERVING_STATUS_NUMBER, type HealthCheckRequest, type HealthCheckResponse } from "./grpc-health.ts";
import { InvalidProbeSpecError, type ProbeContext, type ProbeKind, type ProbeOutcome } from "./kind.ts";
import { failed, roundMs, succeeded } from "./outcome.ts";
import { connectSocket } from "./socket-connect.ts";
import { parseHostPort, parseSpecWith } from "./spec-schema.ts";
import { readTlsFacts, tlsGauges } from "./tls-info.ts";
import { loadTlsClient, parseTlsClient, TLS_CLIENT_FIELDS, type TlsClientOptions, type TlsClientSpec } from "./tls-client.ts";

export interface GrpcSpec {
  /** The service name asked about; "" asks for the server's overall health. */
  service: string;
  tls: boolean;
  tlsVerify: boolean;
  serverName: string | undefined;
  tlsClient: TlsClientSpec;
  /** Sent with the health check, as blackbox's grpc `metadata` (a key's values in order; `-bin` keys as bytes). */
  metadata: Record<string, string[]>;
}

const schema = z.strictObject({
  ...TLS_CLIENT_FIELDS,
  service: z.string({ error: "expected a service name such as grpc.health.v1.Health or \"\"" }).optional(),
  tls: z.boolean({ error: "expected true or false" }).optional(),
  tlsVerify: z.boolean({ error: "expected true or false" }).optional(),
  serverName: z.string({ error: "expected a host name" }).min(1).optional(),
  metadata: z
    .record(z.string().regex(/^[0-9a-z_.-]+$/i, { error: "expected metadata keys of letters, digits, -, _ and ." }), z.union([z.string(), z.array(z.string()).max(50)], { error: "expected a value or a list of values" }), { error: "expected a mapping of metadata keys to values" })
    .optional(),
});

type HealthClient = Client & {
  Check(request: HealthCheckRequest, metadata: Metadata, options: { deadline: Date }, callback: (error: ServiceError | null, response?: HealthCheckResponse) => void): ClientUnaryCall;
};

/** Loaded with the first grpc probe run, so a process without grpc cases never reads the proto. */
let health: ReturnType<typeof loadHealthService> | undefined;

/** `grpc`: grpc.health.v1.Health/Check against host:port; passes only when the answer is SERVING. */
export const grpcKind: ProbeKind<GrpcSpec> = {
  name: "grpc",
  parseSpec(raw) {
    const spec = parseSpecWith(schema, raw);
    const metadata = Object.fromEntries(Object.entries(spec.metadata ?? {}).map(([key, values]) => [key.toLowerCase(), typeof values === "string" ? [values] : values]));
    try {
      callMetadata(metadata);
    } catch (error) {
      // grpc-js's own rules (e.g. printable ASCII outside -bin keys), checked when the case is loaded, not at every run.
      throw new InvalidProbeSpecError(`metadata: ${error instanceof Error ? error.message : String(error)}`);
    }
    return { service: spec.service ?? "", tls: spec.tls ?? false, tlsVerify: spec.tlsVerify ?? true, serverName: spec.serverName, tlsClient: parseTlsClient(spec), metadata };
  },
  run: runGrpc,
};

async function runGrpc(spec: GrpcSpec, target: string, context: ProbeContext): Promise<ProbeOutcome> {
  const address = parseHostPort(target);
  if (!address) return failed(`target ${JSON.stringify(target)} is not host:port`, {}, {});
  let client: TlsClientOptions;
  try {
    client = await loadTlsClient(spec.tlsClient, context.files);
  } catch (error) {
    return { status: "error", message: error instanceof Error ? error.message : String(error), phases: {}, metrics: {} };
  }
  const started = performance.now();
  // Blackbox registers these before resolving, so a probe that stops there still shows them as 0 (prober/grpc.go).
  const metrics: Record<string, number> = { grpc_ssl: 0, grpc_status_code: 0, ...addressGauges(undefined) };
  // grpc-js resolves names itself and takes no lookup hook, so the name is resolved here under the egress
  // policy and the channel dials exactly the address that was checked; the name stays the authority and
  // the TLS name.
  let dialed: string;
  try {
    const allowed = await resolveAllowed(context.egress, address.host, address.port);
    Object.assign(metrics, addressGauges(allowed.address));
    dialed = allowed.family === 6 ? `ipv6:[${allowed.address}]:${address.port}` : `ipv4:${allowed.address}:${address.port}`;
  } catch (error) {
    const phases = { resolve: roundMs(performance.now() - started), total: roundMs(performance.now() - started) };
    if (isEgressDenied(error)) return { status: "error", message: `connecting to ${target}: ${error.message}`, phases, metrics: {} };
    return failed(`resolving ${address.host} failed: ${error instanceof Error ? error.message : String(error)}`, phases, metrics);
  }
  const resolveMs = roundMs(performance.now() - started);
  const authority = spec.serverName ?? target;
  const tlsName = spec.serverName ?? address.host;
  const channelOptions = { "grpc.default_authority": authority, ...(spec.tls ? { "grpc.ssl_target_name_override": tlsName } : {}) };
  health ??= loadHealthService();
  // A channel per run: a shared one would hide connection failures behind its reconnect backoff.
  const healthClient = new health.Client(dialed, channelCredentials(spec, client), { ...channelOptions, "grpc.enable_retries": 0 }) as unknown as HealthClient;
  const asked = `grpc.health.v1.Health/Check${spec.service ? ` for "${spec.service}"` : ""} at ${target}`;
  try {
    const checkStarted = performance.now();
    const { error, response } = await check(healthClient, spec.service, callMetadata(spec.metadata), context);
    const phases = { resolve: resolveMs, check: roundMs(performance.now() - checkStarted), total: roundMs(performance.now() - started) };
    metrics.grpc_status_code = error ? error.code : GrpcStatus.OK;
    // Blackbox reports TLS (probe_grpc_ssl and the certificate gauges) when the call reached the server over it.
    const isAnswered = !error || !UNANSWERED.has(error.code);
    let info: Record<string, Record<string, string>> = {};
    if (spec.tls && isAnswered) {
      metrics.grpc_ssl = 1;
      const gauges = await certificateGauges(spec, client, target, context);
      Object.assign(metrics, gauges.metrics);
      info = gauges.info;
    }
    if (error) {
      if (context.signal.aborted || error.code === GrpcStatus.CANCELLED) return { ...failed(`timed out after ${context.timeoutMs}ms calling ${asked}`, phases, metrics), info };
      return { ...failed(`${asked} failed: ${describeGrpcError(error, spec.service)}`, phases, metrics), info };
    }
    const serving = response?.status ?? "UNKNOWN";
    metrics.grpc_healthcheck_response = SERVING_STATUS_NUMBER[serving];
    if (serving !== "SERVING") return { ...failed(`${asked} answered ${serving}, expected SERVING`, phases, metrics), info };
    return { ...succeeded(phases, metrics), info };
  } finally {
    healthClient.close();
  }
}

/** Statuses grpc-js gives when no answer came from the server (no connection, or none in time). */
const UNANSWERED = new Set<number>([GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.CANCELLED]);

/**
 * grpc-js does not expose the peer certificate, so a TLS probe reads it over one extra handshake, for the
 * same probe_ssl_earliest_cert_expiry alert the http and tls kinds feed. Best effort: no metrics on failure.
 */
async function certificateGauges(spec: GrpcSpec, client: TlsClientOptions, target: string, context: ProbeContext): Promise<ReturnType<typeof tlsGauges>> {
  const none = { metrics: {}, info: {} };
  const address = parseHostPort(target);
  if (!address || context.signal.aborted) return none;
  try {
    const { socket } = await connectSocket({ ...address, tls: true, rejectUnauthorized: false, serverName: spec.serverName, ca: undefined, client, signal: context.signal, egress: context.egress });
    try {
      return tlsGauges(readTlsFacts(socket as TLSSocket), { hasLastChainExpiry: false, hasCipher: false });
    } finally {
      socket.destroy();
    }
  } catch {
    return none;
  }
}

/** The spec's CA, client certificate and versions go in one secure context, which grpc-js takes as it is. */
function channelCredentials(spec: GrpcSpec, client: TlsClientOptions): ChannelCredentials {
  if (!spec.tls) return credentials.createInsecure();
  const context = createSecureContext(client);
  if (spec.tlsVerify) return credentials.createFromSecureContext(context);
  return credentials.createFromSecureContext(context, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
}

/** gRPC keys ending in -bin carry bytes (grpc-js wants them as Buffers); Go sends a string's bytes, so do we. */
function callMetadata(entries: Record<string, string[]>): Metadata {
  const metadata = new Metadata();
  for (const [key, values] of Object.entries(entries)) {
    for (const value of values) metadata.add(key, key.endsWith("-bin") ? Buffer.from(value, "utf8") : value);
  }
  return metadata;
}

function check(client: HealthClient, service: string, metadata: Metadata, context: ProbeContext): Promise<{ error: ServiceError | null; response: HealthCheckResponse | undefined }> {
  return new Promise((resolve) => {
    const deadline = new Date(Date.now() + context.timeoutMs);
    const call = client.Check({ service }, metadata, { deadline }, (error, response) => {
      context.signal.removeEventListener("abort", cancel);
      resolve({ error, response });
    });
    const cancel = () => call.cancel();
    if (context.signal.aborted) cancel();
    else context.signal.addEventListener("abort", cancel, { once: true });
  });
}

function describeGrpcError(error: ServiceError, service: string): string {
  switch (error.code) {
    case GrpcStatus.NOT_FOUND:
      return `the server does not know the service "${service}" (NOT_FOUND)`;
    case GrpcStatus.UNIMPLEMENTED:
      return "the server does not implement grpc.health.v1.Health (UNIMPLEMENTED)";
    case GrpcStatus.UNAVAILABLE:
      return `the server is unreachable (UNAVAILABLE: ${error.details})`;
    case GrpcStatus.DEADLINE_EXCEEDED:
      return "no answer before the deadline (DEADLINE_EXCEEDED)";
    default:
      // The details are the server's own text: an excerpt, as for response bodies.
      return `${GrpcStatus[error.code] ?? error.code}: ${excerpt(error.details)}`;
  }
}
