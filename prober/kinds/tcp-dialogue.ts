import type { Socket } from "node:net";
import { connect as connectTls, type TLSSocket } from "node:tls";
import type { ProbeContext } from "./kind.ts";
import type { TlsClientOptions } from "./tls-client.ts";

/**
 * One step of a tcp case's `steps`, run in order as blackbox_exporter runs a module's query_response
 * (https://github.com/prometheus/blackbox_exporter/blob/master/prober/tcp.go): `expect` reads lines
 * until one matches, `send` writes its text and a newline (`${1}` takes the last expect's group),
 * `starttls` upgrades the connection to TLS.
 */
export interface DialogueStep {
  expect: RegExp | undefined;
  send: string | undefined;
  starttls: boolean;
}

export interface DialogueTls {
  rejectUnauthorized: boolean;
  serverName: string | undefined;
  client: TlsClientOptions;
}

/** Runs the steps; resolves with the socket in use at the end (TLS after a starttls) and "" or the problem. */
export async function runDialogue(socket: Socket, steps: readonly DialogueStep[], tls: DialogueTls, maxBytes: number, context: ProbeContext): Promise<{ socket: Socket; problem: string }> {
  let current = socket;
  let reader = new LineReader(current, maxBytes, context.signal);
  let groups: string[] = [];
  try {
    for (const [index, step] of steps.entries()) {
      if (step.expect) {
        const found = await reader.lineMatching(step.expect);
        if (typeof found === "string") return { socket: current, problem: `step ${index + 1}: no line matched /${step.expect.source}/ before ${found}` };
        groups = found;
      }
      if (step.send !== undefined) current.write(`${expand(step.send, groups)}\n`);
      if (step.starttls) {
        reader.detach();
        current = await upgrade(current, tls);
        reader = new LineReader(current, maxBytes, context.signal);
      }
    }
    return { socket: current, problem: "" };
  } catch (error) {
    return { socket: current, problem: error instanceof Error ? error.message : String(error) };
  } finally {
    reader.detach();
  }
}

/** Go's regexp.Expand forms `$1` and `${1}`; a group that did not take part gives "". */
function expand(template: string, groups: readonly string[]): string {
  return template.replace(/\$(?:\{(\d+)\}|(\d+))/g, (_whole, braced: string | undefined, bare: string | undefined) => groups[Number(braced ?? bare)] ?? "");
}

function upgrade(socket: Socket, tls: DialogueTls): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = connectTls({ socket, rejectUnauthorized: tls.rejectUnauthorized, servername: tls.serverName, ...tls.client });
    secure.once("secureConnect", () => resolve(secure));
    secure.once("error", (error: Error) => reject(new Error(`starttls failed: ${error.message}`)));
  });
}

/** Splits what the server sends into lines, holding at most `maxBytes` of text not yet read as lines. */
class LineReader {
  private pending = "";
  private ended: string | undefined;
  private wake: (() => void) | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.pending += chunk.toString("utf8");
    if (this.pending.length > this.maxBytes) this.stop(`${this.maxBytes} bytes without a matching line (maxReplyBytes)`);
    this.wake?.();
  };
  private readonly onEnd = () => this.stop("the server closed the connection");
  private readonly onError = (error: Error) => this.stop(`a socket error (${error.message})`);
  private readonly onAbort = () => this.stop("the timeout");

  constructor(
    private readonly socket: Socket,
    private readonly maxBytes: number,
    private readonly signal: AbortSignal,
  ) {
    socket.on("data", this.onData);
    socket.once("end", this.onEnd);
    socket.once("error", this.onError);
    if (signal.aborted) this.onAbort();
    else signal.addEventListener("abort", this.onAbort, { once: true });
  }

  /**
   * The groups of the first line matching, or why none did. Lines are matched as they come, the last
   * one also without its newline when the server closes; user patterns run on the linear-time engine
   * (core/regex/user-regex.ts), so a line cannot hold the event loop.
   */
  async lineMatching(pattern: RegExp): Promise<string[] | string> {
    for (;;) {
      const newline = this.pending.indexOf("\n");
      const isLastLine = newline < 0 && this.ended !== undefined && this.pending !== "";
      if (newline >= 0 || isLastLine) {
        const end = isLastLine ? this.pending.length : newline;
        const line = this.pending.slice(0, end).replace(/\r$/, "");
        this.pending = this.pending.slice(end + 1);
        const match = pattern.exec(line);
        if (match) return match.map((group) => group ?? "");
        continue;
      }
      if (this.ended !== undefined) return this.ended;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  detach(): void {
    this.socket.removeListener("data", this.onData);
    this.socket.removeListener("end", this.onEnd);
    this.socket.removeListener("error", this.onError);
    this.signal.removeEventListener("abort", this.onAbort);
  }

  private stop(why: string): void {
    this.ended ??= why;
    this.wake?.();
  }
}
