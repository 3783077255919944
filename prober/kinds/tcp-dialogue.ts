import type { Socket } from "node:net";
import { connect as connectTls, type TLSSocket } from "node:tls";
import type { ProbeContext } from "./kind.ts";
import type { TlsClientOptions } from "./tls-client.ts";

/**
 * One step of a tcp case's `steps`, run in order as blackbox_exporter runs a module's query_response
 * (https://github.com/prometheus/blackbox_exporter/blob/master/prober/query_response.go): `expect` reads
 * lines until one matches, `expectBytes` reads that many bytes and compares them, `send` writes its text
 * or bytes and a newline (`${1}` in text takes a group of the same step's expect), `starttls` upgrades
 * the connection to TLS.
 */
export interface DialogueStep {
  expect: RegExp | undefined;
  /** Labels of blackbox's probe_expect_info, their values expanded from the expect's groups like `send`. */
  labels: ReadonlyArray<{ name: string; value: string }>;
  expectBytes: Buffer | undefined;
  send: string | Buffer | undefined;
  starttls: boolean;
}

/** Which check ended a dialogue, for blackbox's probe_failed_due_to_regex and probe_failed_due_to_bytes. */
export type DialogueFailure = "regex" | "bytes" | "other";

export interface DialogueTls {
  rejectUnauthorized: boolean;
  serverName: string | undefined;
  client: TlsClientOptions;
}

export interface DialogueResult {
  socket: Socket;
  /** "" when every step held. */
  problem: string;
  failure: DialogueFailure | undefined;
  /** The labels of the last step that has them, expanded (blackbox's probe_expect_info); empty without. */
  expectInfo: Record<string, string>;
}

/** A label value is the server's text: bounded, as every exported string is. */
const MAX_LABEL_VALUE_CHARS = 1024;

/** Runs the steps; resolves with the socket in use at the end (TLS after a starttls) and "" or the problem. */
export async function runDialogue(socket: Socket, steps: readonly DialogueStep[], tls: DialogueTls, maxBytes: number, context: ProbeContext): Promise<DialogueResult> {
  let current = socket;
  let reader = new LineReader(current, maxBytes, context.signal);
  let expectInfo: Record<string, string> = {};
  const stopped = (problem: string, failure: DialogueFailure): DialogueResult => ({ socket: current, problem, failure, expectInfo });
  try {
    for (const [index, step] of steps.entries()) {
      let send = step.send;
      if (step.expect) {
        const found = await reader.lineMatching(step.expect);
        if (typeof found === "string") return stopped(`step ${index + 1}: no line matched /${step.expect.source}/ before ${found}`, "regex");
        if (typeof send === "string") send = expand(send, found);
        if (step.labels.length > 0) expectInfo = Object.fromEntries(step.labels.map(({ name, value }) => [name, expand(value, found).slice(0, MAX_LABEL_VALUE_CHARS)]));
      }
      if (step.expectBytes) {
        const read = await reader.bytes(step.expectBytes.length);
        if (typeof read === "string") return stopped(`step ${index + 1}: expected ${step.expectBytes.length} bytes, ${read}`, "other");
        if (!read.equals(step.expectBytes)) return stopped(`step ${index + 1}: expected the bytes ${step.expectBytes.toString("hex")}, got ${read.toString("hex")}`, "bytes");
      }
      // Blackbox writes every send with a newline after it, bytes too (fmt.Fprintf(conn, "%s\n", send)).
      if (send !== undefined) current.write(Buffer.concat([Buffer.from(send), Buffer.from("\n")]));
      if (step.starttls) {
        reader.detach();
        current = await upgrade(current, tls);
        reader = new LineReader(current, maxBytes, context.signal);
      }
    }
    return { socket: current, problem: "", failure: undefined, expectInfo };
  } catch (error) {
    return stopped(error instanceof Error ? error.message : String(error), "other");
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
  private pending = Buffer.alloc(0);
  private ended: string | undefined;
  private wake: (() => void) | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.pending = Buffer.concat([this.pending, chunk]);
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
      const newline = this.pending.indexOf(0x0a);
      const isLastLine = newline < 0 && this.ended !== undefined && this.pending.length > 0;
      if (newline >= 0 || isLastLine) {
        const end = isLastLine ? this.pending.length : newline;
        const line = this.pending.subarray(0, end).toString("utf8").replace(/\r$/, "");
        this.pending = this.pending.subarray(end + 1);
        const match = pattern.exec(line);
        if (match) return match.map((group) => group ?? "");
        continue;
      }
      if (this.ended !== undefined) return this.ended;
      await this.more();
    }
  }

  /** The next `count` bytes, or why fewer came. */
  async bytes(count: number): Promise<Buffer | string> {
    while (this.pending.length < count) {
      if (this.ended !== undefined) return `got ${this.pending.length} before ${this.ended}`;
      await this.more();
    }
    const read = this.pending.subarray(0, count);
    this.pending = this.pending.subarray(count);
    return read;
  }

  private async more(): Promise<void> {
    await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
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
