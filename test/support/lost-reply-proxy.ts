/**
 * A TCP proxy in front of a ClickHouse HTTP interface that can lose the reply to one INSERT: the request
 * reaches the server, the server commits it and answers, and the proxy cuts the client's connection instead
 * of passing the answer on. The client sees a failed write the server in fact stored, the case a retried
 * batch must not be counted twice for.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface LostReplyProxy {
  url: string;
  /** The next INSERT's reply is lost; resolves once that has happened. */
  loseNextInsertReply(): Promise<void>;
  close(): Promise<void>;
}

export async function startLostReplyProxy(targetUrl: string): Promise<LostReplyProxy> {
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
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    loseNextInsertReply: () => new Promise<void>((resolve) => (armed = resolve)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
