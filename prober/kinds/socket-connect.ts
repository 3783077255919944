import { connect as connectTcp, isIP, type Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { connect as connectTls, type TLSSocket } from "node:tls";
import type { EgressPolicy } from "../egress/egress-policy.ts";
import { guardConnection, type LookupFunction } from "../egress/guarded-lookup.ts";
import type { TlsClientOptions } from "./tls-client.ts";

export interface SocketConnectOptions {
  host: string;
  port: number;
  tls: boolean;
  /** With tls: false here, the handshake completes and the caller judges `authorized` itself. */
  rejectUnauthorized: boolean;
  serverName: string | undefined;
  ca: string | undefined;
  /** A spec's CA, client certificate and version range (prober/kinds/tls-client.ts); its CA wins over `ca`. */
  client?: TlsClientOptions;
  /** The local address to connect from; the system chooses when undefined. */
  localAddress?: string | undefined;
  signal: AbortSignal;
  /** Checked before a literal address is connected to, and on the resolved addresses of a name. */
  egress: EgressPolicy;
}

export interface ConnectedSocket {
  socket: Socket | TLSSocket;
  /** Durations in ms. */
  phases: { dns: number; connect: number; tls: number };
}

/** A connect that failed, with the step it stopped in ("connecting to db:5432") for the message, and the phases so far (ms). */
export class SocketConnectError extends Error {
  override readonly name = "SocketConnectError";
  constructor(
    readonly step: string,
    readonly code: string,
    message: string,
    override readonly cause?: unknown,
    readonly phases: ConnectedSocket["phases"] = { dns: 0, connect: 0, tls: 0 },
  ) {
    super(message);
  }
}

/**
 * Opens a TCP (optionally TLS) connection timed by its socket events, destroyed when `signal` aborts.
 * The caller owns the socket on success and must destroy it.
 */
export async function connectSocket(options: SocketConnectOptions): Promise<ConnectedSocket> {
  const started = performance.now();
  let lookup: LookupFunction;
  try {
    lookup = await guardConnection(options.egress, options.host, options.port);
  } catch (error) {
    throw new SocketConnectError(`connecting to ${options.host}:${options.port}`, "EGRESS_DENIED", error instanceof Error ? error.message : String(error), error);
  }
  return connectGuarded(options, lookup, started);
}

function connectGuarded(options: SocketConnectOptions, lookup: LookupFunction, started: number): Promise<ConnectedSocket> {
  let lookupAt: number | undefined;
  let connectAt: number | undefined;
  return new Promise<ConnectedSocket>((resolve, reject) => {
    const address = `${options.host}:${options.port}`;
    const socket = options.tls
      ? connectTls({
          host: options.host,
          port: options.port,
          rejectUnauthorized: options.rejectUnauthorized,
          servername: options.serverName ?? (isIP(options.host) === 0 ? options.host : undefined),
          ca: options.ca,
          ...options.client,
          ...localAddressOf(options),
          lookup,
          // Without verification the caller judges the certificate; Node would otherwise fold a name
          // mismatch into `authorized`, and the chain and the name could not be told apart.
          // (An explicit `undefined` would replace Node's default check, so the key is left out instead.)
          ...(options.rejectUnauthorized ? {} : { checkServerIdentity: () => undefined }),
        })
      : connectTcp({ host: options.host, port: options.port, ...localAddressOf(options), lookup });
    const onAbort = () => socket.destroy(new Error("aborted"));
    const cleanup = () => {
      options.signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", onError);
    };
    const step = () => {
      if (lookupAt === undefined && connectAt === undefined && isIP(options.host) === 0) return `resolving ${options.host}`;
      if (connectAt === undefined) return `connecting to ${address}`;
      return `TLS handshake with ${address}`;
    };
    const onError = (error: Error) => {
      cleanup();
      socket.destroy();
      const code = "code" in error && typeof error.code === "string" ? error.code : "";
      const failedAt = performance.now();
      // A name that did not resolve spent the whole time resolving; a literal address resolves at once.
      const afterDns = lookupAt ?? (connectAt === undefined && isIP(options.host) === 0 ? failedAt : started);
      const phases = { dns: afterDns - started, connect: (connectAt ?? afterDns) - afterDns, tls: connectAt === undefined ? 0 : failedAt - connectAt };
      reject(new SocketConnectError(step(), code, error.message, error, phases));
    };
    const done = () => {
      cleanup();
      // Defensive: the caller listens for errors only while it reads. Should a reset ever be emitted
      // outside that window, it must not become an unhandled 'error' event that takes the prober down.
      socket.on("error", () => undefined);
      const finished = performance.now();
      const afterDns = lookupAt ?? started;
      const connected = connectAt ?? finished;
      resolve({ socket, phases: { dns: afterDns - started, connect: connected - afterDns, tls: options.tls ? finished - connected : 0 } });
    };
    if (options.signal.aborted) onAbort();
    options.signal.addEventListener("abort", onAbort, { once: true });
    socket.on("error", onError);
    socket.once("lookup", () => (lookupAt = performance.now()));
    socket.once("connect", () => {
      connectAt = performance.now();
      if (!options.tls) done();
    });
    if (options.tls) socket.once("secureConnect", done);
  });
}

/** Node takes an absent localAddress as "any", but not an explicit undefined in every version: the key is left out. */
function localAddressOf(options: SocketConnectOptions): { localAddress?: string } {
  return options.localAddress === undefined ? {} : { localAddress: options.localAddress };
}
