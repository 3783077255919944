/** What a receiver answered to an outbound POST (alert outputs, self-healing webhooks). */
export interface PostReply {
  status: number;
  /** At most MAX_REPLY_BYTES of the body: enough for any verdict, and a receiver cannot fill our memory. */
  body: string;
}

export interface OutboundPost {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const MAX_REPLY_BYTES = 16 * 1024;

async function readCapped(response: Response): Promise<string> {
  if (response.body === null) return "";
  // DOM and Node stream typings disagree on the chunk type; fetch bodies always yield bytes.
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_REPLY_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  // Releases the connection when the reply was longer than what we keep.
  await reader.cancel().catch(() => undefined);
  return Buffer.concat(chunks).subarray(0, MAX_REPLY_BYTES).toString("utf8");
}

/**
 * The one way meshsight POSTs to a URL an operator configured. Redirects are not followed: a receiver URL
 * that redirects is a config mistake, and following it would send signed bodies and custom headers somewhere
 * else. Throws on network errors and timeouts; any HTTP reply is returned for the caller to judge.
 */
export async function postOutbound(request: OutboundPost, timeoutMs: number): Promise<PostReply> {
  const signal = AbortSignal.timeout(timeoutMs);
  const response = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body, redirect: "manual", signal });
  return { status: response.status, body: await readCapped(response) };
}
