import { createHmac } from "node:crypto";
import { JSON_HEADERS, sendsToPeople, type OutputAdapter } from "./adapter.ts";
import { alertLink, alertTitle, evidenceLines, rootCauseLine, timesLine } from "./alert-text.ts";
import { jsonCodeVerdict } from "./chat-reply.ts";

/** code 11232: frequency limited. */
const RATE_LIMIT_CODES = [11232];

/**
 * Feishu/Lark's signature: base64(HMAC-SHA256(key = "<timestamp s>\n<secret>", message = "")). Not DingTalk's
 * scheme: key and message are swapped, the timestamp is in seconds, and the result goes in the body unencoded.
 */
export function feishuSign(secret: string, timestampSeconds: number): string {
  return createHmac("sha256", `${timestampSeconds}\n${secret}`).update("").digest("base64");
}

export const feishuAdapter: OutputAdapter = {
  sendsChange: sendsToPeople,
  render({ alert, change }, { target, nowMs, publicUrl }) {
    const lines = [alertTitle(alert, change), alert.message];
    if (alert.rootCause) lines.push(`Root cause: ${rootCauseLine(alert.rootCause)}`, ...evidenceLines(alert.rootCause, publicUrl).map((line) => `- ${line}`));
    lines.push(timesLine(alert, change), alertLink(publicUrl, alert));
    const message = { msg_type: "text", content: { text: lines.join("\n") } };
    if (target.secret === undefined) return { url: target.url, headers: { ...JSON_HEADERS }, body: JSON.stringify(message) };
    const timestampSeconds = Math.floor(nowMs / 1000);
    const signed = { timestamp: String(timestampSeconds), sign: feishuSign(target.secret, timestampSeconds), ...message };
    return { url: target.url, headers: { ...JSON_HEADERS }, body: JSON.stringify(signed) };
  },
  readReply: (status, body) => jsonCodeVerdict(status, body, ["code", "StatusCode"], RATE_LIMIT_CODES),
};
