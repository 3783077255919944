import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { waitFor } from "../../support/wait-for.ts";
import { outputsHarness, resolvedAlert, sampleAlert, startReceiver } from "./support.ts";

const NOW_MS = 1_700_000_000_000;
const PUBLIC_URL = "https://meshsight.example";

describe("webhook outputs", () => {
  it("posts the documented generic webhook JSON, signed with the configured secret, plus custom headers", async () => {
    const receiver = await startReceiver();
    const harness = await outputsHarness(
      { publicUrl: `${PUBLIC_URL}/`, targets: [{ name: "hook", type: "webhook", url: `${receiver.url}/alerts`, secret: "s3cret", headers: { Authorization: "Bearer abc", "Content-Type": "text/plain" } }] },
      { now: () => NOW_MS },
    );
    try {
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: ["hook"] });
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "repeat", outputs: ["hook"] });
      await harness.outputs.dispatcher.dispatch({ alert: resolvedAlert(), change: "resolved", outputs: ["hook"] });
      await waitFor(() => receiver.requests.length === 2, "firing and resolved");
      const [firing, resolved] = receiver.requests;
      assert.ok(firing && resolved);
      assert.equal(firing.url, "/alerts");
      assert.equal(firing.headers.authorization, "Bearer abc");
      assert.equal(firing.headers["content-type"], "application/json", "the protocol's content type wins over a configured one");
      const timestamp = String(NOW_MS / 1000);
      assert.equal(firing.headers["x-meshsight-timestamp"], timestamp);
      const expected = `sha256=${createHmac("sha256", "s3cret").update(`${timestamp}.${firing.body}`).digest("hex")}`;
      assert.equal(firing.headers["x-meshsight-signature"], expected);
      const alert = sampleAlert();
      assert.deepEqual(JSON.parse(firing.body), {
        version: "1",
        source: "meshsight",
        change: "firing",
        sentAt: "2023-11-14T22:13:20.000Z",
        alert: {
          id: "a-1",
          rule: "service_sla_rule",
          scope: "service",
          entity: "productpage.default",
          state: "firing",
          message: alert.message,
          labels: { severity: "critical", team: "shop" },
          startsAt: "2026-01-01T10:00:00.000Z",
          endsAt: null,
          url: `${PUBLIC_URL}/api/v1/alerts/a-1`,
          incidentId: "inc-ratings",
          rootCause: {
            ...alert.rootCause,
            evidence: [
              { kind: "metric", summary: "sla 100 % -> 59 %", ref: `${PUBLIC_URL}/api/v1/metrics?scope=service&service=ratings.default&metric=sla` },
              { kind: "trace", summary: "503 from ratings", ref: `${PUBLIC_URL}/api/v1/traces/4bf92f3577b34da6a3ce929d0e0e4736` },
            ],
          },
        },
      });
      const resolvedBody = JSON.parse(resolved.body) as { change: string; alert: { state: string; endsAt: string } };
      assert.equal(resolvedBody.change, "resolved");
      assert.equal(resolvedBody.alert.state, "resolved");
      assert.equal(resolvedBody.alert.endsAt, "2026-01-01T10:07:00.000Z");
    } finally {
      await harness.close();
      await receiver.close();
    }
  });

  it("posts SkyWalking's AlarmMessage array: scope ids, tags, the same uuid on trigger and recovery, recoveryTime on recovery", async () => {
    const receiver = await startReceiver();
    const harness = await outputsHarness({ targets: [{ name: "sw", type: "skywalking", url: `${receiver.url}/sw` }] });
    try {
      const relation = { id: "r-9", scope: "relation" as const, entity: "reviews.default -> ratings.default", rule: "service_relation_sla_rule" };
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: [] });
      await waitFor(() => receiver.requests.length === 1, "the service alarm");
      await harness.outputs.dispatcher.dispatch({ alert: resolvedAlert(), change: "resolved", outputs: [] });
      await waitFor(() => receiver.requests.length === 2, "the service recovery");
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert({ ...relation, rootCause: null, labels: {} }), change: "firing", outputs: [] });
      await waitFor(() => receiver.requests.length === 3, "the relation alarm");
      const [firing, recovery, relationAlarm] = receiver.requests.map((request) => JSON.parse(request.body) as unknown[]);
      assert.deepEqual(firing, [
        {
          scopeId: 1,
          scope: "SERVICE",
          name: "productpage.default",
          uuid: "a-1",
          id0: "productpage.default",
          id1: "",
          ruleName: "service_sla_rule",
          alarmMessage:
            "SLA of productpage.default is 61.5 % in 2 of the last 3 minutes; root cause: ratings.default (instance ratings-v1-7c9.default), score 0.87: errors up from 0 % to 41 %; its dependencies are healthy",
          startTime: Date.UTC(2026, 0, 1, 10, 0, 0),
          recoveryTime: null,
          tags: [
            { key: "severity", value: "critical" },
            { key: "team", value: "shop" },
            { key: "root_cause", value: "ratings.default" },
          ],
        },
      ]);
      assert.deepEqual(recovery?.[0], { ...(firing?.[0] as object), recoveryTime: Date.UTC(2026, 0, 1, 10, 7, 0) });
      assert.deepEqual(relationAlarm?.[0], {
        scopeId: 4,
        scope: "SERVICE_RELATION",
        name: "reviews.default to ratings.default",
        uuid: "r-9",
        id0: "reviews.default",
        id1: "ratings.default",
        ruleName: "service_relation_sla_rule",
        alarmMessage: sampleAlert().message,
        startTime: Date.UTC(2026, 0, 1, 10, 0, 0),
        recoveryTime: null,
        tags: [],
      });
    } finally {
      await harness.close();
      await receiver.close();
    }
  });
});
