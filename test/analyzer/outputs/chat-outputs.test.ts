import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { waitFor } from "../../support/wait-for.ts";
import { dingTalkSign } from "../../../analyzer/outputs/adapters/dingtalk.ts";
import { feishuSign } from "../../../analyzer/outputs/adapters/feishu.ts";
import { outputsHarness, resolvedAlert, sampleAlert, startReceiver, type ReceivedRequest } from "./support.ts";

const NOW_MS = 1_700_000_000_000;
const PUBLIC_URL = "http://meshsight.example:8080";

/** Chat services answer 200 with their own success bodies. */
function chatReply(request: ReceivedRequest): { status: number; body: string } {
  if (request.url.startsWith("/slack")) return { status: 200, body: "ok" };
  if (request.url.startsWith("/dingtalk")) return { status: 200, body: '{"errcode":0,"errmsg":"ok"}' };
  return { status: 200, body: '{"code":0,"msg":"success","data":{}}' };
}

const FIRING_LINES = [
  "SLA of productpage.default is 61.5 % in 2 of the last 3 minutes",
  "Root cause: ratings.default (instance ratings-v1-7c9.default), score 0.87: errors up from 0 % to 41 %; its dependencies are healthy",
];

describe("chat outputs", () => {
  it("signs like the shared reference's verified vectors", () => {
    assert.equal(encodeURIComponent(dingTalkSign("SECabc", 1_700_000_000_000)), "jcUpW0QmtKduN03n4JqQ0PBosVjqnM8gU7fIIvsDmCM%3D");
    assert.equal(feishuSign("abc", 1_700_000_000), "VIS10b0EBvzzSdFnuk4tznEmK5wHaruvf/WnViv2yR4=");
  });

  it("posts the exact Slack, DingTalk and Feishu payloads with valid signatures for firing and resolved, never for repeat", async () => {
    const receiver = await startReceiver(chatReply);
    const harness = await outputsHarness(
      {
        publicUrl: PUBLIC_URL,
        targets: [
          { name: "oncall-slack", type: "slack", url: `${receiver.url}/slack/T1/B2/xyz` },
          { name: "sre-dingtalk", type: "dingtalk", url: `${receiver.url}/dingtalk/robot/send?access_token=tok123`, secret: "SECabc" },
          { name: "sre-feishu", type: "feishu", url: `${receiver.url}/feishu/open-apis/bot/v2/hook/hook-1`, secret: "abc", headers: { "X-Team": "sre" } },
        ],
      },
      { now: () => NOW_MS },
    );
    try {
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: [] });
      await waitFor(() => receiver.requests.length === 3, "three firing messages");
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "repeat", outputs: [] });
      await harness.outputs.dispatcher.dispatch({ alert: resolvedAlert(), change: "resolved", outputs: [] });
      await waitFor(() => receiver.requests.length === 6, "three resolved messages");
      const byPath = (prefix: string) => receiver.requests.filter((request) => request.url.startsWith(prefix));

      const [slackFiring, slackResolved] = byPath("/slack");
      assert.ok(slackFiring && slackResolved);
      assert.equal(slackFiring.method, "POST");
      assert.equal(slackFiring.url, "/slack/T1/B2/xyz");
      assert.equal(slackFiring.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(slackFiring.body), {
        text: [
          "*[FIRING] service_sla_rule: productpage.default*",
          FIRING_LINES[0],
          `*Root cause:* ${FIRING_LINES[1]?.slice("Root cause: ".length)}`,
          `• metric: sla 100 % -&gt; 59 % (${PUBLIC_URL}/api/v1/metrics?scope=service&amp;service=ratings.default&amp;metric=sla)`,
          `• trace: 503 from ratings (${PUBLIC_URL}/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736)`,
          "started 2026-01-01T10:00:00.000Z",
          `<${PUBLIC_URL}/api/v1/alerts/a-1|Open in meshsight>`,
        ].join("\n"),
      });
      assert.match((JSON.parse(slackResolved.body) as { text: string }).text, /^\*\[RESOLVED\] service_sla_rule: productpage\.default\*\n[\s\S]*\nstarted 2026-01-01T10:00:00\.000Z, resolved 2026-01-01T10:07:00\.000Z\n/);

      const [dingFiring, dingResolved] = byPath("/dingtalk");
      assert.ok(dingFiring && dingResolved);
      const dingUrl = new URL(dingFiring.url, receiver.url);
      assert.equal(dingUrl.pathname, "/dingtalk/robot/send");
      assert.equal(dingUrl.searchParams.get("access_token"), "tok123");
      assert.equal(dingUrl.searchParams.get("timestamp"), String(NOW_MS));
      // Recomputed from the reference: urlencode(base64(HmacSHA256(key = secret, msg = timestamp + "\n" + secret))).
      const expectedSign = createHmac("sha256", "SECabc").update(`${NOW_MS}\nSECabc`).digest("base64");
      assert.equal(dingUrl.searchParams.get("sign"), expectedSign);
      assert.ok(dingFiring.url.includes(`&sign=${encodeURIComponent(expectedSign)}`), "the sign is URL-encoded in the raw query");
      assert.deepEqual(JSON.parse(dingFiring.body), {
        msgtype: "markdown",
        markdown: {
          title: "[FIRING] service_sla_rule: productpage.default",
          text: [
            "### [FIRING] service_sla_rule: productpage.default",
            FIRING_LINES[0],
            `**Root cause**: ${FIRING_LINES[1]?.slice("Root cause: ".length)}`,
            `- metric: sla 100 % -> 59 % (${PUBLIC_URL}/api/v1/metrics?scope=service&service=ratings.default&metric=sla)\n- trace: 503 from ratings (${PUBLIC_URL}/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736)`,
            "started 2026-01-01T10:00:00.000Z",
            `[Open in meshsight](${PUBLIC_URL}/api/v1/alerts/a-1)`,
          ].join("\n\n"),
        },
      });
      assert.equal((JSON.parse(dingResolved.body) as { markdown: { title: string } }).markdown.title, "[RESOLVED] service_sla_rule: productpage.default");

      const [feishuFiring, feishuResolved] = byPath("/feishu");
      assert.ok(feishuFiring && feishuResolved);
      assert.equal(feishuFiring.headers["x-team"], "sre", "configured headers are sent");
      const timestamp = String(NOW_MS / 1000);
      // Recomputed from the reference: base64(HmacSHA256(key = timestamp + "\n" + secret, msg = "")).
      const feishuExpectedSign = createHmac("sha256", `${timestamp}\nabc`).update("").digest("base64");
      assert.deepEqual(JSON.parse(feishuFiring.body), {
        timestamp,
        sign: feishuExpectedSign,
        msg_type: "text",
        content: {
          text: [
            "[FIRING] service_sla_rule: productpage.default",
            ...FIRING_LINES,
            `- metric: sla 100 % -> 59 % (${PUBLIC_URL}/api/v1/metrics?scope=service&service=ratings.default&metric=sla)`,
            `- trace: 503 from ratings (${PUBLIC_URL}/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736)`,
            "started 2026-01-01T10:00:00.000Z",
            `${PUBLIC_URL}/api/v1/alerts/a-1`,
          ].join("\n"),
        },
      });
      assert.match((JSON.parse(feishuResolved.body) as { content: { text: string } }).content.text, /^\[RESOLVED\] /);

      // The receiver has all six before the worker records the last reply.
      await waitFor(async () => (await harness.deliveries("?result=delivered")).length === 6, "six delivered records");
      const delivered = await harness.deliveries();
      assert.equal(delivered.length, 6);
      assert.deepEqual(new Set(delivered.map((record) => record.change)), new Set(["firing", "resolved"]));
    } finally {
      await harness.close();
      await receiver.close();
    }
  });

  it("sends unsigned DingTalk and Feishu messages when no secret is configured", async () => {
    const receiver = await startReceiver(chatReply);
    const harness = await outputsHarness({
      targets: [
        { name: "ding", type: "dingtalk", url: `${receiver.url}/dingtalk/robot/send?access_token=t` },
        { name: "lark", type: "feishu", url: `${receiver.url}/feishu/hook` },
      ],
    });
    try {
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert({ rootCause: null }), change: "firing", outputs: ["ding", "lark"] });
      await waitFor(() => receiver.requests.length === 2, "two messages");
      const ding = receiver.requests.find((request) => request.url.startsWith("/dingtalk"));
      assert.equal(ding?.url, "/dingtalk/robot/send?access_token=t");
      const lark = JSON.parse(receiver.requests.find((request) => request.url.startsWith("/feishu"))?.body ?? "{}") as Record<string, unknown>;
      assert.deepEqual(Object.keys(lark).sort(), ["content", "msg_type"]);
    } finally {
      await harness.close();
      await receiver.close();
    }
  });

  it("treats a refusal in a 200 reply as a failure: DingTalk errcode, Feishu code, Slack text other than ok", async () => {
    const receiver = await startReceiver((request) => {
      if (request.url.startsWith("/slack")) return { status: 200, body: "invalid_payload" };
      if (request.url.startsWith("/dingtalk")) return { status: 200, body: '{"errcode":310000,"errmsg":"sign not match"}' };
      return { status: 200, body: '{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}' };
    });
    const harness = await outputsHarness({
      retryAttempts: 3,
      retryBackoffMs: 10,
      targets: [
        { name: "slack", type: "slack", url: `${receiver.url}/slack` },
        { name: "ding", type: "dingtalk", url: `${receiver.url}/dingtalk?access_token=t`, secret: "SECwrong" },
        { name: "lark", type: "feishu", url: `${receiver.url}/feishu`, secret: "wrong" },
      ],
    });
    try {
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: [] });
      await waitFor(async () => (await harness.deliveries("?result=failed")).length === 3, "three failed deliveries");
      const records = await harness.deliveries();
      // Retrying cannot fix a bad signature or payload, so each was tried once.
      assert.equal(records.length, 3);
      const errors = Object.fromEntries(records.map((record) => [record.output, record.error]));
      assert.match(errors.slack ?? "", /invalid_payload/);
      assert.match(errors.ding ?? "", /errcode 310000/);
      assert.match(errors.lark ?? "", /code 19021/);
      assert.ok(records.every((record) => record.attempt === 1 && record.status === 200 && record.retryInMs === null));
    } finally {
      await harness.close();
      await receiver.close();
    }
  });

  it("with notify: incident, posts one message per incident listing its alerts and linking the incident, and nothing per alert", async () => {
    const receiver = await startReceiver(chatReply);
    const harness = await outputsHarness({ publicUrl: PUBLIC_URL, targets: [{ name: "oncall-slack", type: "slack", url: `${receiver.url}/slack`, notify: "incident" }] });
    try {
      const relation = sampleAlert({ id: "a-2", scope: "relation", entity: "productpage.default -> reviews.default", rule: "service_relation_sla_rule" });
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: [] });
      const incident = { id: "inc-ratings", subject: "ratings.default", state: "firing" as const, startsAtMs: sampleAlert().startsAtMs, endsAtMs: 0, rootCause: sampleAlert().rootCause, alerts: [sampleAlert(), relation], alertCount: 3 };
      await harness.outputs.dispatcher.dispatchIncident({ incident, change: "firing", outputs: [] });
      await waitFor(() => receiver.requests.length === 1, "the incident's message");
      const lines = (JSON.parse(receiver.requests[0]?.body ?? "{}") as { text: string }).text.split("\n");
      assert.equal(lines[0], "*[FIRING] incident: ratings.default*");
      assert.equal(lines[1], "3 alert(s): service_sla_rule on productpage.default, service_relation_sla_rule on productpage.default -&gt; reviews.default, and 1 more");
      assert.equal(lines[2], `*Root cause:* ${FIRING_LINES[1]?.slice("Root cause: ".length)}`);
      assert.equal(lines.at(-1), `<${PUBLIC_URL}/api/v1/incidents/inc-ratings|Open in meshsight>`);
      assert.deepEqual((await harness.deliveries()).map((record) => [record.alertId, record.rule, record.change, record.result]), [["inc-ratings", "incident", "firing", "delivered"]]);
    } finally {
      await harness.close();
      await receiver.close();
    }
  });
});
