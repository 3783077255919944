import { postOutbound, type PostReply } from "../../core/http/outbound-post.ts";
import type { OutgoingRequest } from "./adapters/adapter.ts";

export type HttpReply = PostReply;

/** POSTs one rendered notification (core/http/outbound-post.ts: no redirects, capped reply). */
export function postRequest(request: OutgoingRequest, timeoutMs: number): Promise<HttpReply> {
  return postOutbound(request, timeoutMs);
}

/** A network error's useful part: fetch wraps ECONNREFUSED and friends in a generic "fetch failed". */
export function describeSendError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return "timed out waiting for the receiver";
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}
