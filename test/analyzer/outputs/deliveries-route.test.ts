import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { waitFor } from "../../support/wait-for.ts";
import { outputsHarness, sampleAlert, startReceiver } from "./support.ts";

describe("GET /api/v1/alert-deliveries and /api/v1/alert-outputs", () => {
  it("lists the newest attempts first, filters them, keeps only the configured number, and validates parameters", async () => {
    const receiver = await startReceiver();
    const harness = await outputsHarness({
      deliveryLogSize: 3,
      targets: [
        { name: "one", type: "webhook", url: receiver.url, secret: "token-in-secret" },
        { name: "two", type: "skywalking", url: `${receiver.url}/?token=in-url` },
      ],
    });
    try {
      for (const id of ["a-1", "a-2"]) await harness.outputs.dispatcher.dispatch({ alert: sampleAlert({ id }), change: "firing", outputs: [] });
      await waitFor(() => receiver.requests.length === 4, "four deliveries");
      await waitFor(async () => (await harness.deliveries("?limit=3")).length === 3, "a full log");
      const all = await harness.deliveries();
      assert.equal(all.length, 3, "the ring keeps deliveryLogSize records");
      assert.ok(all.every((record, index) => index === 0 || (all[index - 1]?.atMs ?? 0) >= record.atMs), "newest first");
      assert.ok((await harness.deliveries("?output=one&alert=a-2")).every((record) => record.output === "one" && record.alertId === "a-2"));
      assert.equal((await harness.deliveries("?limit=1")).length, 1);

      for (const query of ["?limit=0", "?limit=4", "?limit=x", "?result=maybe"]) {
        const response = await harness.app.inject({ method: "GET", url: `/api/v1/alert-deliveries${query}` });
        assert.equal(response.statusCode, 400, query);
        assert.equal(response.json<{ error: { code: string } }>().error.code, "MS_INVALID_PARAMETER");
      }

      const outputs = await harness.app.inject({ method: "GET", url: "/api/v1/alert-outputs" });
      assert.deepEqual(outputs.json(), [
        { name: "one", type: "webhook", timeoutMs: 10_000, isSigned: true },
        { name: "two", type: "skywalking", timeoutMs: 10_000, isSigned: false },
      ]);
      assert.doesNotMatch(outputs.body + JSON.stringify(all), /token/, "neither URLs nor secrets are shown");
    } finally {
      await harness.close();
      await receiver.close();
    }
  });
});
