/**
 * A TCP relay in front of a ClickHouse HTTP interface. A test can cut it, as a network partition or a stopped
 * server would, or make it lose the reply to one INSERT: the request reaches the server, the server commits
 * it and answers, and the relay cuts the client's connection instead of passing the answer on. The client
 * then sees a failed write the server in fact stored, the case a retried batch must not be counted twice for.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

export interface ClickHouseRelay {
  url: string;
  port: number;
  /** The next INSERT's reply is lost; resolves once that has happened. */
  loseNextInsertReply(): Promise<void>;
  /** Closes the relay and every connection through it. */
  cut(): Promise<void>;
}

/** `port`: 0 for a free one, or the port of a relay cut before, to bring the same address back. */
export async function startClickHouseRelay(targetUrl: string, port = 0): Promise<ClickHouseRelay> {
  const target = new URL(targetUrl);
  let armed: (() => void) | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
    }
    let carriesLosingInsert = false;
    client.on("data", (chunk: Buffer) => {
      // The client sends the statement in the URL: `?query=INSERT%20INTO...`.
      if (armed !== undefined && /^POST [^\r\n]*query=INSERT/.test(chunk.toString("latin1"))) carriesLosingInsert = true;
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (!carriesLosingInsert) return void client.write(chunk);
      // The server answered, so the insert is committed: the client never hears of it.
      client.destroy();
      upstream.destroy();
      const lost = armed;
      armed = undefined;
      lost?.();
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    loseNextInsertReply: () => new Promise<void>((resolve) => (armed = resolve)),
    cut: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
