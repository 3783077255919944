import { createSocket } from "node:dgram";
import { randomInt } from "node:crypto";
import { performance } from "node:perf_hooks";
import { isIP, type Socket } from "node:net";
import { isEgressDenied, resolveAllowed } from "../../egress/guarded-lookup.ts";
import { connectSocket } from "../socket-connect.ts";
import type { TlsClientOptions } from "../tls-client.ts";
import type { ProbeContext } from "../kind.ts";
import { decodeResponse, encodeQuery, type DnsQuestion, type DnsResponse } from "./dns-message.ts";

/** `tls` is DNS over TLS (RFC 7858): tcp's framing inside TLS, blackbox's `dns_over_tls` ("tcp-tls" in miekg/dns). */
export type DnsTransport = "udp" | "tcp" | "tls";

/** How a DNS-over-TLS server is checked: blackbox's dns `tls_config`. */
export interface DnsTlsOptions {
  rejectUnauthorized: boolean;
  /** The name the certificate must carry; the server's host (name or address) when undefined, as in blackbox. */
  serverName: string | undefined;
  client: TlsClientOptions;
}

/** Phase durations in ms, as blackbox's probe_dns_duration_seconds{phase} (prober/dns.go). */
export interface DnsExchangePhases {
  resolve: number;
  connect: number;
  request: number;
}

/** Why no answer came, with the phases so far and the server's address once it was resolved. */
export class DnsExchangeError extends Error {
  override readonly name = "DnsExchangeError";
  constructor(
    message: string,
    readonly code: string,
    readonly phases: DnsExchangePhases,
    readonly address?: string,
  ) {
    super(message);
  }
}

/** A DNS message is at most 65,535 bytes (the TCP length prefix); nothing larger is read. */
const MAX_MESSAGE_BYTES = 65_535;

/**
 * Sends one question to `host:port` over udp or tcp and returns the decoded answer. The server's address
 * goes through the egress policy as every probe socket's does (an EgressDeniedError is thrown as it is);
 * the exchange ends when the signal aborts. Over udp, datagrams from other addresses or with another id
 * are ignored (RFC 5452 section 9.1).
 */
/** Where a question goes: the server, over which transport, asked from which local address (undefined: the system's choice). */
export interface DnsDestination {
  host: string;
  port: number;
  transport: DnsTransport;
  sourceIpAddress: string | undefined;
  /** With transport tls. */
  tls?: DnsTlsOptions | undefined;
}

export async function exchangeDns({ host, port, transport, sourceIpAddress, tls }: DnsDestination, question: DnsQuestion, context: ProbeContext): Promise<{ response: DnsResponse; phases: DnsExchangePhases; address: string }> {
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(id, question);
  const started = performance.now();
  const server = await resolveAllowed(context.egress, host, port).catch((error: unknown) => {
    if (isEgressDenied(error)) throw error;
    throw new DnsExchangeError(`resolving ${host} failed: ${error instanceof Error ? error.message : String(error)}`, "ENOTFOUND", { resolve: performance.now() - started, connect: 0, request: 0 });
  });
  const family = server.family === 6 ? 6 : 4;
  const resolve = performance.now() - started;
  let socket: Socket | undefined;
  try {
    if (transport !== "udp") {
      const isTls = transport === "tls";
      // The resolved address is dialled; the certificate is checked against the target's host, a name (sent
      // as SNI) or an address (Node checks an address against the one dialled), as blackbox's ServerName default.
      const verification = { rejectUnauthorized: tls?.rejectUnauthorized ?? true, serverName: tls?.serverName ?? (isIP(host) === 0 ? host : undefined) };
      socket = (await connectSocket({ host: server.address, port, tls: isTls, ...verification, ca: undefined, client: tls?.client, localAddress: sourceIpAddress, signal: context.signal, egress: context.egress })).socket;
    }
  } catch (error) {
    const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
    throw new DnsExchangeError(error instanceof Error ? error.message : String(error), code, { resolve, connect: performance.now() - started - resolve, request: 0 }, server.address);
  }
  const requestStarted = performance.now();
  const phases = () => ({ resolve, connect: requestStarted - started - resolve, request: performance.now() - requestStarted });
  try {
    const message = socket ? await exchangeTcp(socket, query, context.signal) : await exchangeUdp(server.address, port, family, sourceIpAddress, id, query, context.signal);
    return { response: decodeResponse(message), phases: phases(), address: server.address };
  } catch (error) {
    if (error instanceof DnsExchangeError) throw new DnsExchangeError(error.message, error.code, phases(), server.address);
    throw new DnsExchangeError(`the answer is not a DNS message: ${error instanceof Error ? error.message : String(error)}`, "EFORMAT", phases(), server.address);
  } finally {
    socket?.destroy();
  }
}

function exchangeUdp(address: string, port: number, family: 4 | 6, source: string | undefined, id: number, query: Buffer, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(family === 6 ? "udp6" : "udp4");
    const finish = (error: Error | undefined, message?: Buffer) => {
      signal.removeEventListener("abort", onAbort);
      socket.close();
      if (error) reject(error);
      else resolve(message ?? Buffer.alloc(0));
    };
    const onAbort = () => finish(new DnsExchangeError("no answer before the timeout", "ETIMEOUT", { resolve: 0, connect: 0, request: 0 }));
    socket.on("message", (message, peer) => {
      if (peer.address !== address || peer.port !== port || message.length < 2 || message.readUInt16BE(0) !== id) return;
      finish(undefined, message);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => finish(new DnsExchangeError(error.message, error.code ?? "", { resolve: 0, connect: 0, request: 0 })));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    if (source === undefined) socket.send(query, port, address);
    else socket.bind({ address: source, port: 0 }, () => socket.send(query, port, address));
  });
}

/** RFC 1035 4.2.2: each message over tcp is prefixed with its length in two bytes. */
function exchangeTcp(socket: Socket, query: Buffer, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const noPhases = { resolve: 0, connect: 0, request: 0 };
    const finish = (error: Error | undefined, message?: Buffer) => {
      signal.removeEventListener("abort", onAbort);
      socket.removeAllListeners("data");
      if (error) reject(error);
      else resolve(message ?? Buffer.alloc(0));
    };
    const onAbort = () => finish(new DnsExchangeError("no answer before the timeout", "ETIMEOUT", noPhases));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > MAX_MESSAGE_BYTES + 2) return finish(new DnsExchangeError(`more than ${MAX_MESSAGE_BYTES} bytes without a whole message`, "EFORMAT", noPhases));
      const length = received.length >= 2 ? received.readUInt16BE(0) : Number.POSITIVE_INFINITY;
      if (received.length >= 2 + length) finish(undefined, received.subarray(2, 2 + length));
    });
    socket.once("end", () => finish(new DnsExchangeError("the server closed the connection before answering", "ECONNRESET", noPhases)));
    socket.once("error", (error: NodeJS.ErrnoException) => finish(new DnsExchangeError(error.message, error.code ?? "", noPhases)));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    const length = Buffer.alloc(2);
    length.writeUInt16BE(query.length);
    socket.write(Buffer.concat([length, query]));
  });
}
