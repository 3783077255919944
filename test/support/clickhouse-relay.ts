/**
 * A TCP relay in front of a ClickHouse HTTP interface. A test can cut it, as a network partition or a stopped
 * server would, or make it lose the reply to one INSERT: the request reaches the server, the server commits
 * it and answers, and the relay cuts the client's connection instead of passing the answer on. The client
 * then sees a failed write the server in fact stored, the case a retried batch must not be counted twice for.
 * Or it can hold the reply to an INSERT into a given table: the server stores the rows and the client waits,
 * so a test can kill the client at the instant storage has taken a write the client never heard of.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

export interface ClickHouseRelay {
  url: string;
  port: number;
  /** The next INSERT's reply is lost; resolves once that has happened. */
  loseNextInsertReply(): Promise<void>;
  /**
   * Passes `passed` INSERTs into `table` on, then holds the reply to the next one for good; resolves once the
   * server has answered that one (so it stored the rows).
   */
  holdInsertReply(table: string, passed: number): Promise<void>;
  /** Closes the relay and every connection through it. */
  cut(): Promise<void>;
}

/** `port`: 0 for a free one, or the port of a relay cut before, to bring the same address back. */
export async function startClickHouseRelay(targetUrl: string, port = 0): Promise<ClickHouseRelay> {
  const target = new URL(targetUrl);
  let armed: (() => void) | undefined;
  let holding: { table: string; passed: number; held: () => void } | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => socket.destroy());
    }
    let carriesLosingInsert = false;
    let heldReply: (() => void) | undefined;
    client.on("data", (chunk: Buffer) => {
      // The client sends the statement in the URL: `?query=INSERT%20INTO...`.
      const insert = /^POST [^\r\n]*query=INSERT[^\r\n ]*/.exec(chunk.toString("latin1"))?.[0];
      if (armed !== undefined && insert !== undefined) carriesLosingInsert = true;
      if (holding !== undefined && insert !== undefined && decodeURIComponent(insert.replaceAll("+", " ")).includes(`.${holding.table} `)) {
        if (holding.passed === 0) heldReply = holding.held;
        else holding.passed--;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (heldReply !== undefined) {
        holding = undefined;
        return heldReply();
      }
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
    holdInsertReply: (table, passed) => new Promise<void>((held) => (holding = { table, passed, held })),
    cut: async () => {
      const closed = new Promise((resolve) => server.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
