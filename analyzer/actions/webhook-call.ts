import { postOutbound } from "../../core/http/outbound-post.ts";

/**
 * POSTs the action as JSON, as the alert outputs POST (no redirects, a capped reply); any answer other than
 * 2xx fails the action with the receiver's words.
 */
export async function callWebhook(url: string, payload: Record<string, unknown>, timeoutMs: number): Promise<string> {
  const reply = await postOutbound({ url, headers: { "content-type": "application/json", "user-agent": "meshsight-actions" }, body: JSON.stringify(payload) }, timeoutMs);
  const host = new URL(url).host;
  if (reply.status < 200 || reply.status > 299) throw new Error(`${host} answered ${reply.status}: ${reply.body.slice(0, 200)}`);
  return `${host} answered ${reply.status}`;
}
