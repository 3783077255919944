import { createSocket, type RemoteInfo } from "node:dgram";
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import dnsPacket, { type Answer } from "dns-packet";
import type { TestCertificate } from "./certificates.ts";

/** What the server answers for one name: records by section and the rcode (0, NOERROR, by default). */
export interface ZoneEntry {
  answers?: Answer[];
  authorities?: Answer[];
  additionals?: Answer[];
  rcode?: number;
}

/** Records the test DNS server knows, by lower-case name; other names get NXDOMAIN. */
export type Zone = Record<string, Answer[] | ZoneEntry>;

/** A query as the server received it, so tests can check how the prober asked. */
export interface HeardQuery {
  transport: "udp" | "tcp" | "tls";
  name: string;
  type: string;
  class: string;
  isRecursionDesired: boolean;
}

export interface TestDnsServer {
  /** "127.0.0.1:port", answering over udp and tcp on the same port. */
  server: string;
  heard: HeardQuery[];
  /** The address each query came from, in order. */
  sources: string[];
  close: () => Promise<void>;
}

/**
 * A real DNS server on a free loopback port, over udp and tcp; `silentNames` are never answered (to test
 * timeouts). With `tls`, the tcp side is DNS over TLS (RFC 7858: tcp's framing inside TLS) with that certificate.
 */
export async function startDnsServer(zone: Zone, silentNames: readonly string[] = [], options: { tls?: TestCertificate } = {}): Promise<TestDnsServer> {
  const heard: HeardQuery[] = [];
  const sources: string[] = [];
  const answer = (message: Buffer, transport: HeardQuery["transport"]): Buffer | undefined => {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    if (!question) return undefined;
    heard.push({ transport, name: question.name, type: question.type, class: question.class ?? "IN", isRecursionDesired: ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) !== 0 });
    if (silentNames.includes(question.name.toLowerCase())) return undefined;
    const known = zone[question.name.toLowerCase()];
    const entry: ZoneEntry | undefined = Array.isArray(known) ? { answers: known } : known;
    return dnsPacket.encode({
      type: "response",
      id: query.id,
      // rcode lives in the low 4 bits of the flags: 3 = NXDOMAIN.
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (entry ? (entry.rcode ?? 0) : 3),
      questions: [question],
      // dns-packet types no ANY question, but decodes type 255 as "ANY".
      answers: (entry?.answers ?? []).filter((record) => (question.type as string) === "ANY" || record.type === question.type),
      authorities: entry?.authorities ?? [],
      additionals: entry?.additionals ?? [],
    });
  };
  for (let attempt = 1; ; attempt += 1) {
    const udp = createSocket("udp4");
    udp.on("message", (message: Buffer, peer: RemoteInfo) => {
      sources.push(peer.address);
      const reply = answer(message, "udp");
      if (reply) udp.send(reply, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => udp.bind(0, "127.0.0.1", resolve));
    const { port } = udp.address();
    // The tcp side takes the same port number, as a DNS server's does; taken already, both start again elsewhere.
    const connections = new Set<Socket>();
    const onConnection = (socket: Socket) => {
      connections.add(socket);
      sources.push(socket.remoteAddress ?? "");
      socket.once("close", () => connections.delete(socket));
      answerOverTcp(socket, (message) => answer(message, options.tls ? "tls" : "tcp"));
    };
    const tcp = options.tls ? createTlsServer({ key: options.tls.keyPem, cert: options.tls.certPem }, onConnection) : createServer(onConnection);
    if (options.tls) tcp.on("tlsClientError", () => undefined);
    const isListening = await new Promise<boolean>((resolve) => {
      tcp.once("error", () => resolve(false));
      tcp.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (isListening) return { server: `127.0.0.1:${port}`, heard, sources, close: () => closeBoth(udp, tcp, connections) };
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (attempt === 5) throw new Error("no loopback port free for both udp and tcp");
  }
}

/** RFC 1035 4.2.2: messages over tcp carry a two-byte length first. */
function answerOverTcp(socket: Socket, answer: (message: Buffer) => Buffer | undefined): void {
  let received = Buffer.alloc(0);
  socket.on("error", () => undefined);
  socket.on("data", (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
      const message = received.subarray(2, 2 + received.readUInt16BE(0));
      received = received.subarray(2 + message.length);
      const reply = answer(message);
      if (!reply) continue;
      const length = Buffer.alloc(2);
      length.writeUInt16BE(reply.length);
      socket.write(Buffer.concat([length, reply]));
    }
  });
}

async function closeBoth(udp: ReturnType<typeof createSocket>, tcp: Server, connections: ReadonlySet<Socket>): Promise<void> {
  await new Promise<void>((resolve) => udp.close(() => resolve()));
  for (const socket of connections) socket.destroy();
  await new Promise<void>((resolve) => tcp.close(() => resolve()));
}
