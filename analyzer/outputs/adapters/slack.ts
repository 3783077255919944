import { httpStatusVerdict, JSON_HEADERS, sendsToPeople, type OutputAdapter } from "./adapter.ts";
import { alertLink, alertTitle, evidenceLines, rootCauseLine, timesLine } from "./alert-text.ts";

/** Slack's mrkdwn reserves these three; anything else is shown as typed (api.slack.com "Escaping text"). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export const slackAdapter: OutputAdapter = {
  sendsChange: sendsToPeople,
  render({ alert, change }, { target, publicUrl }) {
    const lines = [`*${escapeSlack(alertTitle(alert, change))}*`, escapeSlack(alert.message)];
    if (alert.rootCause) {
      lines.push(`*Root cause:* ${escapeSlack(rootCauseLine(alert.rootCause))}`);
      lines.push(...evidenceLines(alert.rootCause, publicUrl).map((line) => `• ${escapeSlack(line)}`));
    }
    lines.push(timesLine(alert, change), `<${alertLink(publicUrl, alert)}|Open in meshsight>`);
    return { url: target.url, headers: { ...JSON_HEADERS }, body: JSON.stringify({ text: lines.join("\n") }) };
  },
  // Success is 200 with the plain text "ok"; errors such as invalid_payload come back as text too.
  readReply(status, body) {
    const verdict = httpStatusVerdict(status, body);
    if (!verdict.ok || body.trim() === "ok") return verdict;
    return { ok: false, retryable: false, reason: `Slack replied ${JSON.stringify(body.slice(0, 200))} instead of "ok"` };
  },
};
