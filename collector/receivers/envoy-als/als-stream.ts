/**
 * One Envoy ALS stream: decodes each message, keeps the proxy identity the first message carried, and
 * hands entries over. When the pipeline refuses a batch, the call is paused (HTTP/2 flow control then
 * holds Envoy back) and the batch is retried with backoff for a bounded time; only then is it counted as
 * rejected and the call ended with RESOURCE_EXHAUSTED. At most one batch per stream waits, so memory
 * stays bounded by the stream limit.
 */
import type { ServerReadableStream, status } from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { AccessLogEntry, NodeInfo, ProxyIdentity } from "../../../core/model/access-log.ts";
import type { RejectCounter } from "../../../core/telemetry/rejects.ts";
import type { AccessLogIngest } from "../../ingest.ts";
import { grpcApi } from "../grpc-api.ts";
import { decodeAlsMessage } from "./message-decoder.ts";
import type { DecoderMemo } from "./decoder-memo.ts";
import type { EmptyResponse } from "./service-definition.ts";

export const REJECT_SOURCE = "als";

const FIRST_RETRY_DELAY_MS = 2;
const MAX_RETRY_DELAY_MS = 100;

export interface AlsStreamDeps {
  ingest: AccessLogIngest;
  identify: (node: NodeInfo) => ProxyIdentity;
  rejects: RejectCounter;
  logger: Logger;
  /** How long a refused batch is retried before the stream gives up on it. */
  handoverTimeoutMs: number;
  /** Shared by every stream: peers, clusters and addresses repeat across proxies too. */
  memo: DecoderMemo;
  /** Called for every batch the pipeline took, to count entries by type. */
  onHandedOver: (entries: readonly AccessLogEntry[]) => void;
}

type Respond = (error: { code: status; details: string } | null, response?: EmptyResponse) => void;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class AlsStream {
  private identity: ProxyIdentity | null = null;
  /** The one refused batch being retried, if any; the call stays paused meanwhile. */
  private pendingHandover: Promise<boolean> | null = null;
  private isResponded = false;
  private isClosing = false;
  /** Settles once the call is over and nothing of it is still being handed over. */
  readonly finished: Promise<void>;
  private markFinished: () => void = () => undefined;
  private isCallOver = false;

  constructor(
    private readonly call: ServerReadableStream<Buffer, EmptyResponse>,
    private readonly respond: Respond,
    private readonly deps: AlsStreamDeps,
  ) {
    this.finished = new Promise((resolve) => (this.markFinished = resolve));
    call.on("data", (bytes: Buffer) => this.onMessage(bytes));
    call.on("end", () => void this.onClientEnd());
    // A cancelled or broken call can send nothing back, but what was already received is still handed over.
    call.on("cancelled", () => this.onCallOver());
    call.on("error", (error: Error) => {
      deps.logger.debug({ err: error }, "ALS stream error");
      this.onCallOver();
    });
  }

  private onMessage(bytes: Buffer): void {
    if (this.isResponded) return;
    const handover = this.processMessage(bytes);
    if (handover === null) return;
    this.call.pause();
    this.pendingHandover = handover;
    void handover.then((isTaken) => {
      this.pendingHandover = null;
      if (!isTaken) this.end(grpcApi.status.RESOURCE_EXHAUSTED, "meshsight is overloaded; retry later");
      else if (!this.isClosing && !this.isResponded) this.call.resume();
      if (this.isCallOver) this.markFinished();
    });
  }

  /** Decodes and hands over one message; returns a promise only when the batch must wait for the pipeline. */
  private processMessage(bytes: Buffer): Promise<boolean> | null {
    const { rejects } = this.deps;
    const decoded = decodeAlsMessage(bytes, this.deps.memo);
    if (decoded.badEntries > 0) rejects.reject(REJECT_SOURCE, "bad_entry", decoded.badEntries);
    if (decoded.malformedReason !== "") rejects.reject(REJECT_SOURCE, "malformed_message", 1, decoded.malformedReason);
    if (decoded.node !== null) this.identity = this.identifyOrNull(decoded.node, decoded.entries.length);
    const entries = decoded.entries;
    if (entries.length === 0) {
      if (decoded.node === null && decoded.badEntries === 0 && decoded.malformedReason === "") {
        rejects.reject(REJECT_SOURCE, "empty_message");
      }
      return null;
    }
    if (this.identity === null) {
      // Envoy identifies itself on a stream's first message; entries without an identity cannot be attributed.
      rejects.reject(REJECT_SOURCE, "no_identifier", entries.length);
      return null;
    }
    if (this.pendingHandover !== null) {
      // Unreachable while paused (a paused Readable emits no data); refuse rather than queue without bound.
      rejects.reject(REJECT_SOURCE, "overloaded", entries.length);
      return null;
    }
    if (this.deps.ingest.ingest(this.identity, entries, bytes)) {
      this.deps.onHandedOver(entries);
      return null;
    }
    return this.retryHandover(this.identity, entries, bytes);
  }

  private identifyOrNull(node: NodeInfo, entryCount: number): ProxyIdentity | null {
    try {
      return this.deps.identify(node);
    } catch (error) {
      this.deps.rejects.reject(REJECT_SOURCE, "identify_failed", Math.max(entryCount, 1), error instanceof Error ? error.message : String(error));
      return null;
    }
  }

  private async retryHandover(identity: ProxyIdentity, entries: AccessLogEntry[], bytes: Buffer): Promise<boolean> {
    const deadline = Date.now() + this.deps.handoverTimeoutMs;
    let delayMs = FIRST_RETRY_DELAY_MS;
    while (Date.now() < deadline) {
      await sleep(Math.min(delayMs, Math.max(1, deadline - Date.now())));
      delayMs = Math.min(delayMs * 2, MAX_RETRY_DELAY_MS);
      if (this.deps.ingest.ingest(identity, entries, bytes)) {
        this.deps.onHandedOver(entries);
        return true;
      }
    }
    this.deps.rejects.reject(REJECT_SOURCE, "overloaded", entries.length);
    return false;
  }

  private async onClientEnd(): Promise<void> {
    // 'end' only fires after every message was emitted, but the last batch may still be waiting.
    if (this.pendingHandover !== null) await this.pendingHandover;
    if (!this.isResponded) {
      this.isResponded = true;
      this.respond(null, {});
    }
    this.onCallOver();
  }

  private onCallOver(): void {
    this.isCallOver = true;
    if (this.pendingHandover === null) this.markFinished();
  }

  private end(code: status, details: string): void {
    if (this.isResponded) return;
    this.isResponded = true;
    this.respond({ code, details });
    this.onCallOver();
  }

  /**
   * Graceful stop: lets the waiting batch finish, hands over the messages already buffered in the call,
   * then ends the call with UNAVAILABLE, which tells Envoy to reconnect (to another collector).
   */
  async close(): Promise<void> {
    this.isClosing = true;
    this.call.pause();
    if (this.pendingHandover !== null) await this.pendingHandover;
    // Only what was buffered when stop began: a fast client must not keep the drain going forever.
    let buffered = this.call.readableLength;
    while (buffered-- > 0 && !this.isResponded) {
      const bytes = this.call.read() as Buffer | null;
      if (bytes === null) break;
      const handover = this.processMessage(bytes);
      if (handover !== null && !(await handover)) break;
    }
    this.end(grpcApi.status.UNAVAILABLE, "meshsight collector is shutting down");
    this.markFinished();
  }
}
