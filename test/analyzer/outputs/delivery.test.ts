import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { freePort } from "../../services/index.ts";
import { waitFor } from "../../support/wait-for.ts";
import { counterValue, outputsHarness, resolvedAlert, sampleAlert, startReceiver } from "./support.ts";

describe("alert delivery", () => {
  it("retries a receiver that is down with exponential backoff, logs every attempt, and delivers the other output at once", async () => {
    const downUrl = `http://127.0.0.1:${await freePort()}/hook`;
    const receiver = await startReceiver(() => ({ status: 200, body: "ok" }));
    const harness = await outputsHarness({
      retryAttempts: 3,
      retryBackoffMs: 300,
      targets: [
        { name: "down", type: "webhook", url: downUrl },
        { name: "chat", type: "slack", url: `${receiver.url}/slack` },
      ],
    });
    try {
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: [] });
      await waitFor(async () => (await harness.deliveries("?output=down&result=failed")).length === 1, "the last attempt to fail", 10_000);
      const down = (await harness.deliveries("?output=down")).reverse();
      assert.deepEqual(
        down.map((record) => [record.attempt, record.result, record.retryInMs, record.status]),
        [
          [1, "retrying", 300, null],
          [2, "retrying", 600, null],
          [3, "failed", null, null],
        ],
      );
      assert.ok(down.every((record) => record.maxAttempts === 3 && /ECONNREFUSED/.test(record.error ?? "")), JSON.stringify(down));
      const [first, second, third] = down.map((record) => record.atMs);
      assert.ok(first !== undefined && second !== undefined && third !== undefined);
      assert.ok(second - first >= 295 && third - second >= 595, `attempts at +0, +${second - first}, +${third - first} ms`);

      const [chat] = await harness.deliveries("?output=chat");
      assert.equal(chat?.result, "delivered");
      assert.equal(chat.attempt, 1);
      assert.ok(chat.atMs < second, "the other output did not wait for the first retry");
      assert.equal(await counterValue(harness.registry, "meshsight_alert_deliveries_total", { output: "down", result: "retrying" }), 2);
      assert.equal(await counterValue(harness.registry, "meshsight_alert_deliveries_total", { output: "down", result: "failed" }), 1);
      assert.equal(await counterValue(harness.registry, "meshsight_alert_deliveries_total", { output: "chat", result: "delivered" }), 1);
    } finally {
      await harness.close();
      await receiver.close();
    }
  });

  it("keeps delivering to other outputs while one receiver hangs, and dispatch returns without waiting for either", async () => {
    const slow = await startReceiver(() => "hang");
    const fast = await startReceiver();
    const harness = await outputsHarness({
      retryAttempts: 1,
      targets: [
        { name: "slow", type: "webhook", url: slow.url, timeoutMs: 3_000 },
        { name: "fast", type: "webhook", url: fast.url },
      ],
    });
    try {
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: [] });
      await waitFor(async () => (await harness.deliveries("?output=fast&result=delivered")).length === 1, "the fast output");
      assert.equal(slow.requests.length, 1, "the slow receiver has the request and has not answered");
      assert.deepEqual(await harness.deliveries("?output=slow"), []);
      await waitFor(async () => (await harness.deliveries("?output=slow&result=failed")).length === 1, "the slow output to time out", 10_000);
      const [timedOut] = await harness.deliveries("?output=slow");
      assert.match(timedOut?.error ?? "", /timed out/);
    } finally {
      await slow.close();
      await harness.close();
      await fast.close();
    }
  });

  it("retries 5xx and 429 until delivered, fails 4xx at once", async () => {
    let calls = 0;
    const receiver = await startReceiver((request) => {
      if (request.url === "/bad") return { status: 400, body: "unknown field" };
      calls += 1;
      return calls === 1 ? { status: 503, body: "busy" } : calls === 2 ? { status: 429, body: "slow down" } : { status: 204, body: "" };
    });
    const harness = await outputsHarness({
      retryAttempts: 5,
      retryBackoffMs: 10,
      targets: [
        { name: "flaky", type: "webhook", url: `${receiver.url}/flaky` },
        { name: "bad", type: "webhook", url: `${receiver.url}/bad` },
      ],
    });
    try {
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: [] });
      await waitFor(async () => (await harness.deliveries("?output=flaky&result=delivered")).length === 1, "the flaky output");
      await waitFor(async () => (await harness.deliveries("?output=bad&result=failed")).length === 1, "the bad output");
      const flaky = (await harness.deliveries("?output=flaky")).reverse();
      assert.deepEqual(flaky.map((record) => [record.attempt, record.result, record.status]), [
        [1, "retrying", 503],
        [2, "retrying", 429],
        [3, "delivered", 204],
      ]);
      const bad = await harness.deliveries("?output=bad");
      assert.deepEqual(bad.map((record) => [record.attempt, record.result, record.status, record.error]), [[1, "failed", 400, "HTTP 400: unknown field"]]);
    } finally {
      await harness.close();
      await receiver.close();
    }
  });

  it("never lets a retried firing land after the resolved that followed it", async () => {
    const receiver = await startReceiver((request) => ((JSON.parse(request.body) as { change: string }).change === "firing" ? { status: 503, body: "" } : { status: 200, body: "" }));
    const harness = await outputsHarness({ retryAttempts: 3, retryBackoffMs: 200, targets: [{ name: "hook", type: "webhook", url: receiver.url }] });
    try {
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: [] });
      await waitFor(async () => (await harness.deliveries("?result=retrying")).length === 1, "the first firing attempt to fail");
      await harness.outputs.dispatcher.dispatch({ alert: resolvedAlert(), change: "resolved", outputs: [] });
      await waitFor(async () => (await harness.deliveries("?result=superseded")).length === 1, "the firing retry to be dropped", 5_000);
      assert.deepEqual(
        receiver.requests.map((request) => (JSON.parse(request.body) as { change: string }).change),
        ["firing", "resolved"],
      );
    } finally {
      await harness.close();
      await receiver.close();
    }
  });

  it("re-sends a firing alert to Alertmanager at most every re-send interval, each time with a fresh endsAt lease", async () => {
    let nowMs = Date.UTC(2026, 0, 1, 10, 1, 0);
    const receiver = await startReceiver();
    const harness = await outputsHarness(
      { alertmanagerResendIntervalMs: 60_000, targets: [{ name: "am", type: "alertmanager", url: `${receiver.url}/` }, { name: "chat", type: "slack", url: `${receiver.url}/slack` }] },
      { now: () => nowMs },
    );
    const dispatch = (change: "firing" | "repeat" | "resolved") => harness.outputs.dispatcher.dispatch({ alert: change === "resolved" ? resolvedAlert() : sampleAlert(), change, outputs: ["am"] });
    const amBodies = () => receiver.requests.filter((request) => request.url === "/api/v2/alerts").map((request) => JSON.parse(request.body) as Array<{ endsAt: string }>);
    try {
      await dispatch("firing");
      await waitFor(() => amBodies().length === 1, "the firing post");
      nowMs += 30_000;
      await dispatch("repeat");
      nowMs += 30_000;
      await dispatch("repeat");
      await waitFor(() => amBodies().length === 2, "one re-send after the interval");
      nowMs += 7 * 60_000;
      await dispatch("resolved");
      await waitFor(() => amBodies().length === 3, "the resolved post");
      assert.deepEqual(
        amBodies().map((body) => body[0]?.endsAt),
        ["2026-01-01T10:05:00.000Z", "2026-01-01T10:06:00.000Z", "2026-01-01T10:07:00.000Z"],
        "firing: now + 4 x max(re-send interval, 1 min); resolved: the alert's end",
      );
      assert.equal(receiver.requests.filter((request) => request.url === "/slack").length, 0, "outputs not named by the notification get nothing");
    } finally {
      await harness.close();
      await receiver.close();
    }
  });

  it("records and counts unknown output names and a full queue instead of failing the analyzer", async () => {
    const slow = await startReceiver(() => "hang");
    const harness = await outputsHarness({ workerConcurrency: 1, retryAttempts: 1, targets: [{ name: "slow", type: "webhook", url: slow.url, timeoutMs: 5_000 }] }, { maxPending: 1 });
    try {
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert(), change: "firing", outputs: ["no-such-output", "slow"] });
      await waitFor(() => slow.requests.length === 1, "the first job to be in flight");
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert({ id: "a-2" }), change: "firing", outputs: [] });
      await harness.outputs.dispatcher.dispatch({ alert: sampleAlert({ id: "a-3" }), change: "firing", outputs: [] });
      const [unknown] = await harness.deliveries("?result=unknown_output");
      assert.equal(unknown?.output, "no-such-output");
      assert.equal(unknown.type, null);
      assert.equal(await counterValue(harness.registry, "meshsight_alert_unknown_outputs_total"), 1);
      const dropped = await harness.deliveries("?result=dropped");
      assert.deepEqual(dropped.map((record) => [record.alertId, record.attempt]), [["a-3", 0]]);
      assert.match(dropped[0]?.error ?? "", /full/);
      assert.equal(await counterValue(harness.registry, "meshsight_alert_deliveries_total", { output: "slow", result: "dropped" }), 1);
    } finally {
      await slow.close();
      await harness.close();
    }
  });
});
