import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { SilenceBook } from "../../../analyzer/alerts/silences.ts";
import { silenceRoutes } from "../../../analyzer/api/silence-routes.ts";
import { buildApp } from "../../../core/http/app.ts";
import { startAlertmanager, type RunningService } from "../../services/index.ts";
import { waitForValue } from "../../support/wait-for.ts";
import { silentLogger } from "../outputs/support.ts";

interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual?: boolean;
}

const LABELS = { alertname: "sla_low", entity: "reviews.default", severity: "warning" };

/** Matcher sets Alertmanager users write: every operator, a label the alert lacks, and ones Alertmanager refuses. */
const CASES: Array<{ what: string; matchers: Matcher[] }> = [
  { what: "=~ on the whole value", matchers: [{ name: "entity", value: "reviews\\..*", isRegex: true }] },
  { what: "=~ is anchored", matchers: [{ name: "entity", value: "reviews", isRegex: true, isEqual: true }] },
  { what: "!= another value", matchers: [{ name: "alertname", value: "sla_low", isRegex: false }, { name: "severity", value: "critical", isRegex: false, isEqual: false }] },
  { what: "!= its own value", matchers: [{ name: "alertname", value: "sla_low", isRegex: false }, { name: "severity", value: "warning", isRegex: false, isEqual: false }] },
  { what: "!~ matching", matchers: [{ name: "alertname", value: "sla_low", isRegex: false }, { name: "entity", value: "reviews.*", isRegex: true, isEqual: false }] },
  { what: "!~ not matching", matchers: [{ name: "alertname", value: "sla_low", isRegex: false }, { name: "entity", value: "ratings.*", isRegex: true, isEqual: false }] },
  { what: "= '' on a missing label", matchers: [{ name: "alertname", value: "sla_low", isRegex: false }, { name: "team", value: "", isRegex: false }] },
  { what: "only negative matchers", matchers: [{ name: "severity", value: "critical", isRegex: false, isEqual: false }] },
  { what: "every matcher matches the empty string", matchers: [{ name: "team", value: "", isRegex: false }, { name: "entity", value: ".*", isRegex: true }] },
];

/** Differential: the same silence bodies go to a real Alertmanager and to meshsight, and both must agree. */
describe("silence matchers as Alertmanager v2 has them (real Alertmanager)", () => {
  // A private Alertmanager: these silences would mute other test files' alerts in the shared one.
  let alertmanager: RunningService;
  let app: FastifyInstance;
  const book = new SilenceBook(100);
  before(async () => {
    alertmanager = await startAlertmanager();
    app = buildApp({ logger: silentLogger, registry: new Registry(), readinessChecks: [], bodyLimitBytes: 1_000_000, routes: [silenceRoutes({ silences: book, onChange: async () => undefined, now: Date.now })] });
    await app.ready();
  });
  after(async () => {
    await app.close();
    await alertmanager.stop();
  });

  const silenceBody = (matchers: Matcher[]) => ({ matchers, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdBy: "test", comment: "differential" });

  async function alertmanagerSilences(matchers: Matcher[]): Promise<{ isAccepted: boolean; mutes: boolean }> {
    const created = await fetch(`${alertmanager.url}/api/v2/silences`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(silenceBody(matchers)) });
    if (created.status !== 200) {
      assert.equal(created.status, 400, await created.text());
      return { isAccepted: false, mutes: false };
    }
    const { silenceID } = (await created.json()) as { silenceID: string };
    const alertname = `probe_${silenceID.slice(0, 8)}`;
    // A fresh alert per case, labelled like LABELS: the silence's matchers are about LABELS' alertname.
    await fetch(`${alertmanager.url}/api/v2/alerts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify([{ labels: { ...LABELS, case: alertname }, startsAt: new Date().toISOString(), endsAt: new Date(Date.now() + 600_000).toISOString() }]) });
    const shown = await waitForValue(async () => {
      const response = await fetch(`${alertmanager.url}/api/v2/alerts?filter=${encodeURIComponent(`case="${alertname}"`)}`);
      const [alert] = (await response.json()) as Array<{ status: { silencedBy: string[] } }>;
      return alert;
    }, "the probe alert in Alertmanager");
    const mutes = shown.status.silencedBy.includes(silenceID);
    await fetch(`${alertmanager.url}/api/v2/silence/${silenceID}`, { method: "DELETE" });
    return { isAccepted: true, mutes };
  }

  for (const { what, matchers } of CASES) {
    it(`${what}: accepted and muting exactly as in Alertmanager`, async () => {
      const expected = await alertmanagerSilences(matchers);
      const response = await app.inject({ method: "POST", url: "/api/v1/silences", payload: silenceBody(matchers) });
      assert.equal(response.statusCode, expected.isAccepted ? 201 : 400, response.body);
      if (!expected.isAccepted) return;
      const { id } = response.json<{ id: string }>();
      const mutes = book.matching({ ...LABELS, case: "x" }, Date.now()).includes(id);
      assert.equal(mutes, expected.mutes);
      assert.deepEqual(
        response.json<{ matchers: Matcher[] }>().matchers.map((matcher) => matcher.isEqual),
        matchers.map((matcher) => matcher.isEqual ?? true),
        "isEqual is kept, true when not given",
      );
    });
  }
});
