import { createSocket, type RemoteInfo } from "node:dgram";
import dnsPacket, { type Answer } from "dns-packet";

/** Records the test DNS server knows, by lower-case name; other names get NXDOMAIN. */
export type Zone = Record<string, Answer[]>;

/** A real UDP DNS server on a free loopback port; `silentNames` are never answered (to test timeouts). */
export async function startDnsServer(zone: Zone, silentNames: readonly string[] = []): Promise<{ server: string; close: () => Promise<void> }> {
  const socket = createSocket("udp4");
  socket.on("message", (message: Buffer, peer: RemoteInfo) => {
    const query = dnsPacket.decode(message);
    const question = query.questions?.[0];
    if (!question || silentNames.includes(question.name.toLowerCase())) return;
    const records = zone[question.name.toLowerCase()];
    const answers = (records ?? []).filter((record) => record.type === question.type);
    const reply = dnsPacket.encode({
      type: "response",
      id: query.id,
      // rcode lives in the low 4 bits of the flags: 3 = NXDOMAIN.
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (records ? 0 : 3),
      questions: [question],
      answers,
    });
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const { port } = socket.address();
  return { server: `127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
