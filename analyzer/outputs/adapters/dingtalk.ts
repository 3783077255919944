import { createHmac } from "node:crypto";
import { JSON_HEADERS, sendsToPeople, type DeliveryNotification, type OutputAdapter } from "./adapter.ts";
import { alertLink, alertTitle, evidenceLines, rootCauseLine, timesLine } from "./alert-text.ts";
import { jsonCodeVerdict } from "./chat-reply.ts";

/** errcode 130101: "send too fast" (20 messages a minute per robot). */
const RATE_LIMIT_CODES = [130101];

/**
 * DingTalk's signature: base64(HMAC-SHA256(key = secret, message = "<timestamp ms>\n<secret>")); it goes in the
 * query string URL-encoded (timonwong/prometheus-webhook-dingtalk notifier/notification.go). Returned unencoded.
 */
export function dingTalkSign(secret: string, timestampMs: number): string {
  return createHmac("sha256", secret).update(`${timestampMs}\n${secret}`).digest("base64");
}

/** DingTalk markdown needs a blank line for a line break. */
export function dingTalkMarkdown({ alert, change }: DeliveryNotification, publicUrl: string): { title: string; text: string } {
  const title = alertTitle(alert, change);
  const blocks = [`### ${title}`, alert.message];
  if (alert.rootCause) {
    blocks.push(`**Root cause**: ${rootCauseLine(alert.rootCause)}`);
    const evidence = evidenceLines(alert.rootCause, publicUrl);
    if (evidence.length > 0) blocks.push(evidence.map((line) => `- ${line}`).join("\n"));
  }
  blocks.push(timesLine(alert, change), `[Open in meshsight](${alertLink(publicUrl, alert)})`);
  return { title, text: blocks.join("\n\n") };
}

export const dingTalkAdapter: OutputAdapter = {
  sendsChange: sendsToPeople,
  render(notification, context) {
    const url = new URL(context.target.url);
    if (context.target.secret !== undefined) {
      // URLSearchParams encodes "+", "/" and "=" of the base64 text, which is the urlencode DingTalk expects.
      url.searchParams.set("timestamp", String(context.nowMs));
      url.searchParams.set("sign", dingTalkSign(context.target.secret, context.nowMs));
    }
    const body = { msgtype: "markdown", markdown: dingTalkMarkdown(notification, context.publicUrl) };
    return { url: url.toString(), headers: { ...JSON_HEADERS }, body: JSON.stringify(body) };
  },
  readReply: (status, body) => jsonCodeVerdict(status, body, ["errcode"], RATE_LIMIT_CODES),
};
