import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { AlertRecord } from "../../../analyzer/alerts/alert-book.ts";
import { logAlertChanges } from "../../../analyzer/alerts/alert-log.ts";
import type { Alert } from "../../../core/model/alert.ts";

function record(alert: Partial<Alert>): AlertRecord {
  const full: Alert = { id: "a1", rule: "service_sla", scope: "service", entity: "productpage.default", state: "firing", message: "", labels: {}, startsAtMs: 0, endsAtMs: 0, rootCause: null, ...alert };
  return { alert: full } as AlertRecord;
}

void describe("logAlertChanges", () => {
  void it("writes one info line per alert that fired or resolved, with the root cause when one was found", () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const rootCause = { service: "ratings.default", instance: "ratings-v1-1.default", score: 0.9, reason: "error rate 30 %", evidence: [] };
    logAlertChanges(logger, {
      fired: [record({ id: "f1", rootCause }), record({ id: "f2", rule: "endpoint_latency", scope: "endpoint", entity: "GET:/ in reviews.default" })],
      resolved: [record({ id: "r1", state: "resolved", rootCause: { ...rootCause, instance: "" } })],
    });
    assert.deepEqual(
      lines.map((line) => [line.level, line.alert, line.rootCause, line.msg]),
      [
        [30, "f1", "ratings.default", "alert fired: service_sla on productpage.default; root cause ratings.default (ratings-v1-1.default): error rate 30 %"],
        [30, "f2", undefined, "alert fired: endpoint_latency on GET:/ in reviews.default"],
        [30, "r1", "ratings.default", "alert resolved: service_sla on productpage.default; root cause ratings.default: error rate 30 %"],
      ],
    );
  });
});
