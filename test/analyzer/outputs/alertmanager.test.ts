import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { useAlertmanager, type RunningService } from "../../services/index.ts";
import { waitFor, waitForValue } from "../../support/wait-for.ts";
import { outputsHarness, sampleAlert, type Harness } from "./support.ts";

/** gettableAlert of Alertmanager's API v2, the parts this test reads. */
interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

describe("Alertmanager output against a real Alertmanager", () => {
  let alertmanager: RunningService;
  let harness: Harness;

  before(async () => {
    alertmanager = await useAlertmanager();
    harness = await outputsHarness({ publicUrl: "http://meshsight.test:8080", targets: [{ name: "am", type: "alertmanager", url: alertmanager.url }] });
  });
  after(async () => {
    await harness.close();
    await alertmanager.stop();
  });

  async function alertsNamed(alertname: string): Promise<GettableAlert[]> {
    const filter = encodeURIComponent(`alertname="${alertname}"`);
    const response = await fetch(`${alertmanager.url}/api/v2/alerts?filter=${filter}`);
    assert.equal(response.status, 200);
    return (await response.json()) as GettableAlert[];
  }

  it("shows the alert in GET /api/v2/alerts with its labels and root cause, then resolves it there", async () => {
    // The Alertmanager may be shared with other test files: a unique rule name keeps this test's alert apart.
    const rule = `service_sla_rule_${randomUUID().slice(0, 8)}`;
    const startsAtMs = Date.now() - 120_000;
    const firing = sampleAlert({ id: `a-${rule}`, rule, startsAtMs, labels: { severity: "critical", "app.kubernetes.io/part-of": "bookinfo" } });
    await harness.outputs.dispatcher.dispatch({ alert: firing, change: "firing", outputs: [] });
    await waitFor(async () => (await alertsNamed(rule)).length === 1, "the alert in Alertmanager");

    const [shown] = await alertsNamed(rule);
    assert.ok(shown);
    assert.deepEqual(shown.labels, { alertname: rule, scope: "service", entity: "productpage.default", severity: "critical", app_kubernetes_io_part_of: "bookinfo" });
    assert.equal(shown.status.state, "active");
    assert.equal(Date.parse(shown.startsAt), startsAtMs);
    assert.ok(Date.parse(shown.endsAt) > Date.now() + 3 * 60_000, `a lease in the future, got endsAt ${shown.endsAt}`);
    assert.equal(shown.generatorURL, `http://meshsight.test:8080/api/v1/alerts/a-${rule}`);
    assert.equal(shown.annotations.summary, firing.message);
    assert.equal(shown.annotations.root_cause_service, "ratings.default");
    assert.match(shown.annotations.root_cause ?? "", /^ratings\.default \(instance ratings-v1-7c9\.default\), score 0\.87: /);

    await harness.outputs.dispatcher.dispatch({ alert: { ...firing, state: "resolved", endsAtMs: Date.now() }, change: "resolved", outputs: [] });
    // Alertmanager 0.25 keeps a resolved alert until garbage collection but leaves it out of GET /api/v2/alerts.
    await waitFor(async () => (await alertsNamed(rule)).length === 0, "the alert to be resolved in Alertmanager");
    // Alertmanager answers before the delivery log records the answer: wait for the record, then check it.
    const deliveries = await waitForValue(async () => {
      const records = await harness.deliveries("?output=am");
      return records.length >= 2 ? records : undefined;
    }, "both deliveries in the log");
    assert.deepEqual(deliveries.map((record) => [record.change, record.result, record.status]), [
      ["resolved", "delivered", 200],
      ["firing", "delivered", 200],
    ]);
  });
});
