import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { renderMessage, skyWalkingEntityId } from "../../../analyzer/alerts/message-template.ts";
import type { AnalysisWindow, EntityWindow } from "../../../analyzer/health/analysis-window.ts";
import { findBreaches, type Breach } from "../../../analyzer/rules/rule-evaluator.ts";
import { parseRuleFile, RuleFileError, type AlarmRuleSet } from "../../../analyzer/rules/rule-file.ts";
import type { AlarmRule, RuleScope } from "../../../analyzer/rules/rule.ts";
import { newDenseHistogram, recordLatency, toSparse } from "../../../core/model/histogram.ts";
import type { MetricValues } from "../../../core/model/metrics.ts";

const FIXTURES = join(import.meta.dirname, "../../fixtures/skywalking");
/** A vendored SkyWalking file, loaded unchanged (test/fixtures/skywalking/README.md). */
const loadFixture = (file: string): AlarmRuleSet => parseRuleFile(readFileSync(join(FIXTURES, file), "utf8"), file);

const MINUTES = 12;
const FROM_MS = Date.UTC(2026, 0, 1, 10, 0, 0);

/** One minute of traffic: `calls` calls, `errors` of them failed, each taking `latencyMs` (or the given latencies). */
function minute(figures: { calls?: number; errors?: number; latencyMs?: number; latencies?: number[]; satisfied?: number; tolerating?: number }): MetricValues {
  const latencies = figures.latencies ?? new Array<number>(figures.calls ?? 100).fill(figures.latencyMs ?? 10);
  const histogram = newDenseHistogram();
  for (const latency of latencies) recordLatency(histogram, latency);
  const calls = latencies.length;
  return {
    calls,
    errors: figures.errors ?? 0,
    latencySumMs: latencies.reduce((total, latency) => total + latency, 0),
    apdexSatisfied: figures.satisfied ?? calls,
    apdexTolerating: figures.tolerating ?? 0,
    bytesIn: 0,
    bytesOut: 0,
    histogram: toSparse(histogram),
  };
}

/** An entity whose last minutes are `recent` (oldest first); earlier minutes had no traffic. */
function entity(scope: RuleScope, name: string, recent: (MetricValues | undefined)[], service = name): EntityWindow {
  const minutes = [...new Array<MetricValues | undefined>(MINUTES - recent.length).fill(undefined), ...recent];
  const labels: Record<string, string> = scope === "instance" ? { service, instance: name } : scope === "endpoint" ? { service, endpoint: name.split(" in ")[0] ?? name } : { service };
  return { scope, entity: name, service, labels, minutes, probes: new Array<undefined>(MINUTES).fill(undefined), calls: 0 };
}

function windowOf(...entities: EntityWindow[]): AnalysisWindow {
  const byScope: AnalysisWindow["entities"] = { service: [], instance: [], endpoint: [], relation: [], probe: [] };
  for (const each of entities) byScope[each.scope].push(each);
  return { fromMs: FROM_MS, toMs: FROM_MS + MINUTES * 60_000, minuteCount: MINUTES, entities: byScope, skipped: { service: 0, instance: 0, endpoint: 0, relation: 0, probe: 0 } };
}

function ruleNamed(set: AlarmRuleSet, name: string): AlarmRule {
  const rule = set.rules.find((each) => each.name === name);
  assert.ok(rule, `rule ${name} is active; active: ${set.rules.map((each) => each.name).join(", ")}`);
  return rule;
}

const firing = (rule: AlarmRule, ...entities: EntityWindow[]): Breach[] => findBreaches([rule], windowOf(...entities));
const firingNames = (rule: AlarmRule, ...entities: EntityWindow[]): string[] => firing(rule, ...entities).map((breach) => breach.entity.entity);

describe("SkyWalking alarm-settings.yml, loaded unchanged", () => {
  it("the OAP's built-in file: one response-time rule in ms, limited to its include-names, SkyWalking's defaults", () => {
    const set = loadFixture("server-starter-alarm-settings.yml");
    assert.deepEqual(set.inactive, []);
    const rule = ruleNamed(set, "service_resp_time_rule");
    assert.deepEqual([rule.scope, rule.periodMinutes, rule.silencePeriodMinutes, rule.recoveryObservationMinutes], ["service", 10, 10, 0], "silence-period defaults to the period");
    assert.equal(rule.message, "Alarm caused by Rule service_resp_time_rule");
    assert.deepEqual(rule.labels, { level: "WARNING" }, "tags become labels");
    assert.deepEqual(rule.outputs, [], "no hooks anywhere: every output");
    const slow = [minute({ latencyMs: 1_001 })];
    assert.deepEqual(firingNames(rule, entity("service", "dubbox-provider", slow), entity("service", "other", slow)), ["dubbox-provider"], "sum(service_resp_time > 1000) >= 1, include-names only");
    assert.deepEqual(firingNames(rule, entity("service", "dubbox-consumer", [minute({ latencyMs: 1_000 })])), [], "1000 ms is not above 1000");
  });

  it("the distribution's file: sla in 10000ths, percentiles per p label, instances; rules over metrics meshsight lacks load inactive", () => {
    const set = loadFixture("dist-material-alarm-settings.yml");
    assert.deepEqual(set.rules.map((rule) => rule.name), ["service_resp_time_rule", "service_sla_rule", "service_resp_time_percentile_rule", "service_instance_resp_time_rule"]);
    assert.deepEqual(
      set.inactive.map((rule) => [rule.name, rule.expression]),
      [
        ["database_access_resp_time_rule", "sum(database_access_resp_time > 1000) >= 2"],
        ["endpoint_relation_resp_time_rule", "sum(endpoint_relation_resp_time > 1000) >= 2"],
      ],
    );
    assert.match(set.inactive[0]?.reason ?? "", /^meshsight does not produce database_access_resp_time \(it has service_resp_time, /);
    assert.match(set.inactive[1]?.reason ?? "", /no endpoint-to-endpoint relations/);

    const sla = ruleNamed(set, "service_sla_rule");
    assert.deepEqual([sla.periodMinutes, sla.silencePeriodMinutes, sla.recoveryObservationMinutes], [10, 3, 2]);
    // sum(service_sla < 8000) >= 2: 8000 is 80.00 %.
    const failing = [minute({ calls: 1000, errors: 201 }), minute({}), minute({ calls: 1000, errors: 250 })];
    const [breach] = firing(sla, entity("service", "reviews.default", failing));
    assert.ok(breach, "79.9 % and 75 % in two minutes of ten");
    assert.deepEqual([breach.value, breach.threshold, breach.breachingMinutes], [2, 2, 2]);
    assert.deepEqual(breach.points.map((point) => point.v), [7_990, 10_000, 7_500], "the evidence is service_sla in 10000ths");
    assert.equal(renderMessage(sla, breach.entity, breach), "Successful rate of service reviews.default is lower than 80% in 2 minutes of last 10 minutes");
    assert.deepEqual(firingNames(sla, entity("service", "a.default", [minute({ calls: 1000, errors: 200 }), minute({ calls: 1000, errors: 200 })])), [], "exactly 80 % is not below 8000");
    assert.deepEqual(firingNames(sla, entity("service", "b.default", [minute({ calls: 10, errors: 5 })])), [], "one minute of two");

    // sum(service_percentile{p='50,75,90,95,99'} > 1000) >= 3: any percentile in three minutes.
    const percentile = ruleNamed(set, "service_resp_time_percentile_rule");
    const tail = () => minute({ latencies: [...new Array<number>(95).fill(20), ...new Array<number>(5).fill(3_000)] });
    const [slowTail] = firing(percentile, entity("service", "ratings.default", [tail(), tail(), tail()]));
    assert.ok(slowTail, "p99 above 1000 ms in three minutes fires, though p50 is 20 ms");
    assert.deepEqual(firingNames(percentile, entity("service", "ratings.default", [tail(), tail()])), [], "two minutes are not three");

    // sum(service_instance_resp_time > 1000) >= 2, named as SkyWalking names instances.
    const instance = ruleNamed(set, "service_instance_resp_time_rule");
    const [pod] = firing(instance, entity("instance", "reviews-v1-abc.default", [minute({ latencyMs: 1_500 }), minute({ latencyMs: 2_000 })], "reviews.default"));
    assert.ok(pod);
    assert.equal(renderMessage(instance, pod.entity, pod), "Response time of service instance reviews-v1-abc.default of reviews.default is more than 1000ms in 2 minutes of last 10 minutes");
  });

  it("the config example: arithmetic on endpoint_sla, and regex include-names", () => {
    const set = loadFixture("config-examples-alarm-settings.yml");
    assert.deepEqual(set.inactive, []);
    // sum((endpoint_sla / 100) < 75) >= 3: endpoint_sla / 100 is the percentage.
    const endpoint = ruleNamed(set, "endpoint_percent_rule");
    assert.equal(endpoint.scope, "endpoint");
    const at = (percent: number) => [minute({ calls: 100, errors: 100 - percent }), minute({ calls: 100, errors: 100 - percent }), minute({ calls: 100, errors: 100 - percent })];
    assert.deepEqual(firingNames(endpoint, entity("endpoint", "GET:/reviews in reviews.default", at(74), "reviews.default")), ["GET:/reviews in reviews.default"]);
    assert.deepEqual(firingNames(endpoint, entity("endpoint", "GET:/reviews in reviews.default", at(75), "reviews.default")), []);
    const instance = ruleNamed(set, "service_instance_resp_time_rule");
    assert.equal(instance.includeNamesRegex?.source, "^(?:instance\\_\\d+)$", "a whole-name match, as Java's Matcher.matches()");
    assert.deepEqual(ruleNamed(set, "service_resp_time_rule").labels, { level: "CRITICAL" });
  });

  it("SkyWalking's e2e file: increase and abs, && of two metrics, hooks and default hooks as outputs, tags as labels", () => {
    const set = loadFixture("e2e-alarm-settings.yml");
    assert.deepEqual(set.inactive, []);
    // sum(abs(increase(service_resp_time,1)) > 0) >= 1: any change of the response time from one minute to the next.
    const change = ruleNamed(set, "service_resp_time_rule");
    assert.deepEqual(change.outputs, ["webhook.custom"]);
    assert.deepEqual(change.labels, { level: "WARNING", receivers: "lisi" });
    assert.equal(change.silencePeriodMinutes, 1);
    assert.deepEqual(firingNames(change, entity("service", "up", [minute({ latencyMs: 100 }), minute({ latencyMs: 120 })])), ["up"]);
    assert.deepEqual(firingNames(change, entity("service", "down", [minute({ latencyMs: 120 }), minute({ latencyMs: 100 })])), ["down"], "abs() catches a decrease too");
    assert.deepEqual(firingNames(change, entity("service", "flat", [minute({ latencyMs: 100 }), minute({ latencyMs: 100 })])), []);
    assert.deepEqual(firingNames(change, entity("service", "alone", [minute({ latencyMs: 100 })])), [], "no minute before: no increase");

    const percentile = ruleNamed(set, "service_percentile_rule");
    const slow = () => minute({ latencyMs: 150 });
    assert.deepEqual(firingNames(percentile, entity("service", "s", [slow(), slow(), slow()])), ["s"], "every percentile above 100 ms");

    // sum((service_resp_time > 100) && (service_sla > 1)) >= 1; no hooks: the file's is-default hook.
    const both = ruleNamed(set, "comp_rule");
    assert.deepEqual(both.outputs, ["webhook.default"]);
    assert.equal(both.recoveryObservationMinutes, 3);
    assert.deepEqual(firingNames(both, entity("service", "slow-ok", [minute({ latencyMs: 150 })])), ["slow-ok"]);
    assert.deepEqual(firingNames(both, entity("service", "slow-failing", [minute({ latencyMs: 150, calls: 10, errors: 10 })])), [], "sla 0 is not above 1");
    assert.deepEqual(firingNames(both, entity("service", "fast-ok", [minute({ latencyMs: 50 })])), []);
  });

  it("SkyWalking's baseline e2e file loads with its rule inactive: meshsight has no metrics prediction", () => {
    const set = loadFixture("e2e-baseline-alarm-settings.yml");
    assert.deepEqual(set.rules, []);
    assert.deepEqual(set.inactive.map((rule) => rule.name), ["baseline_rule"]);
    assert.match(set.inactive[0]?.reason ?? "", /baseline\(\) needs SkyWalking's metrics prediction service/);
  });

  it("apdex in 10000ths, cpm, 9.x index labels, relations, message {id}, and empty regexes as unset", () => {
    const set = parseRuleFile(
      [
        "rules:",
        "  service_apdex_rule:",
        "    expression: sum(service_apdex < 7500) >= 1",
        "    exclude-names-regex: ''",
        "    message: 'apdex of {name} ({id}) is low'",
        "  service_cpm_rule:",
        "    expression: max(service_cpm) > 500",
        "  service_p50_rule:",
        "    expression: sum(service_percentile{_='0'} > 100) >= 1",
        "  relation_sla_rule:",
        "    expression: avg(service_relation_server_call_sla) < 9000 || min(service_relation_client_cpm) > 1000",
        "    period: 3",
        "  ignored:",
        "    expression: sum(service_sla < 8000) >= 1",
      ].join("\n"),
      "alarm-settings.yml",
    );
    assert.deepEqual(set.inactive.map((rule) => [rule.name, rule.reason]), [["ignored", "SkyWalking skips rules whose name does not end in _rule"]]);
    // Apdex T = the collector's threshold: 600 satisfied, 200 tolerating of 1000 is (600 + 100) / 1000 = 0.7.
    const apdex = ruleNamed(set, "service_apdex_rule");
    assert.equal(apdex.excludeNamesRegex, undefined, "an empty regex is no filter, not one that matches everything");
    const [low] = firing(apdex, entity("service", "web.default", [minute({ calls: 1000, satisfied: 600, tolerating: 200 })]));
    assert.ok(low);
    assert.deepEqual(low.points.map((point) => point.v), [7_000]);
    assert.equal(renderMessage(apdex, low.entity, low), `apdex of web.default (${Buffer.from("web.default").toString("base64")}.1) is low`);
    assert.deepEqual(firingNames(apdex, entity("service", "web.default", [minute({ calls: 1000, satisfied: 700, tolerating: 100 })])), [], "0.75 is not below 7500");
    assert.deepEqual(firingNames(ruleNamed(set, "service_cpm_rule"), entity("service", "busy", [minute({ calls: 501 })]), entity("service", "calm", [minute({ calls: 500 })])), ["busy"]);
    assert.deepEqual(firingNames(ruleNamed(set, "service_p50_rule"), entity("service", "s", [minute({ latencyMs: 150 })])), ["s"], "{_='0'} is P50");
    const relation = ruleNamed(set, "relation_sla_rule");
    assert.equal(relation.scope, "relation");
    assert.deepEqual(firingNames(relation, entity("relation", "a.default to b.default", [minute({ calls: 100, errors: 20 })], "a.default")), ["a.default to b.default"]);
  });

  it("reads every mesh metric name in SkyWalking's scale", () => {
    // One minute: 200 calls, 50 failed, 100 at 100 ms and 100 at 300 ms; 150 satisfied and 50 tolerating.
    const traffic = () => minute({ latencies: [...new Array<number>(100).fill(100), ...new Array<number>(100).fill(300)], errors: 50, satisfied: 150, tolerating: 50 });
    const cases: Array<[string, RuleScope, number]> = [
      ["service_resp_time", "service", 200],
      ["service_sla", "service", 7_500],
      ["service_cpm", "service", 200],
      ["service_apdex", "service", 8_750],
      ["service_instance_resp_time", "instance", 200],
      ["service_instance_sla", "instance", 7_500],
      ["service_instance_cpm", "instance", 200],
      ["endpoint_resp_time", "endpoint", 200],
      ["endpoint_sla", "endpoint", 7_500],
      ["endpoint_cpm", "endpoint", 200],
      ["service_relation_client_resp_time", "relation", 200],
      ["service_relation_server_resp_time", "relation", 200],
      ["service_relation_client_call_sla", "relation", 7_500],
      ["service_relation_server_call_sla", "relation", 7_500],
      ["service_relation_client_cpm", "relation", 200],
      ["service_relation_server_cpm", "relation", 200],
    ];
    for (const [metric, scope, expected] of cases) {
      const rule = ruleNamed(parseRuleFile(`rules:\n  m_rule:\n    expression: max(${metric}) >= 0\n`, "m.yml"), "m_rule");
      assert.equal(rule.scope, scope, metric);
      const [breach] = firing(rule, entity(scope, "e", [traffic()], "s"));
      assert.equal(breach?.value, expected, metric);
    }
    for (const [metric, scope] of [["service_percentile", "service"], ["endpoint_percentile", "endpoint"], ["service_relation_client_percentile", "relation"], ["service_relation_server_percentile", "relation"]] as const) {
      const rule = ruleNamed(parseRuleFile(`rules:\n  p_rule:\n    expression: max(${metric}{p='50,99'}) >= 0\n`, "p.yml"), "p_rule");
      const [breach] = firing(rule, entity(scope, "e", [traffic()], "s"));
      // Histogram buckets are within 4.4 % of the true latency (core/model/histogram.ts).
      assert.ok(breach && Math.abs(breach.value - 100) <= 5, `${metric} p50 ~ 100 ms, got ${breach?.value}`);
    }
  });

  it("the other MQE functions: count, latest, ceil, floor, round, rate, aggregate_labels, %", () => {
    const value = (expression: string, ...recent: MetricValues[]): number | undefined => {
      const rule = ruleNamed(parseRuleFile(`rules:\n  f_rule:\n    expression: "${expression}"\n    period: 5\n`, "f.yml"), "f_rule");
      return firing(rule, entity("service", "s", recent))[0]?.value;
    };
    const at = (latencyMs: number) => minute({ calls: 10, latencyMs });
    assert.equal(value("count(service_cpm) >= 0", at(1), at(1), at(1)), 3, "minutes with data");
    assert.equal(value("latest(service_resp_time) >= 0", at(5), at(7)), 7);
    assert.equal(value("ceil(avg(service_resp_time) / 4) >= 0", at(5), at(6)), 2);
    assert.equal(value("floor(avg(service_resp_time) / 4) >= 0", at(5), at(6)), 1);
    assert.equal(value("round(avg(service_resp_time) / 3, 1) >= 0", at(5), at(6)), 1.8);
    assert.equal(value("max(rate(service_resp_time, 2)) >= 0", at(10), at(20), at(130)), 1, "(130 - 10) / 120 s");
    assert.equal(value("max(service_resp_time % 7) >= 0", at(20)), 6);
    const smaller = value("aggregate_labels(max(service_percentile{p='50,99'}), min) >= 0", minute({ latencies: [...new Array<number>(98).fill(10), 500, 500] }));
    assert.ok(smaller !== undefined && smaller >= 9 && smaller <= 11, `the smaller of p50 and p99 is p50 ~ 10 ms, got ${smaller}`);
    assert.equal(value("sum(service_cpm > bool 0) >= 0", at(1), at(1)), 2, "`> bool` is a comparison giving 1 or 0");
  });

  it("defaults and limits: silence-period 0 re-alarms every minute, no label is every percentile, long periods and query-only functions load inactive", () => {
    const set = parseRuleFile(
      [
        "rules:",
        "  every_minute_rule:",
        "    expression: sum(service_sla < 8000) >= 1",
        "    silence-period: 0",
        "  all_percentiles_rule:",
        "    expression: sum(service_percentile > 1000) >= 1",
        "  long_rule:",
        "    expression: sum(service_sla < 8000) >= 1",
        "    period: 120",
        "  top_rule:",
        "    expression: top_n(service_cpm, 10, des) > 1",
      ].join("\n"),
      "alarm-settings.yml",
    );
    assert.equal(ruleNamed(set, "every_minute_rule").silencePeriodMinutes, 1);
    const tail = minute({ latencies: [...new Array<number>(98).fill(10), 2_000, 2_000] });
    assert.deepEqual(firingNames(ruleNamed(set, "all_percentiles_rule"), entity("service", "s", [tail])), ["s"], "p99 is among the percentiles read");
    assert.deepEqual(set.inactive.map((rule) => rule.name), ["long_rule", "top_rule"]);
    assert.match(set.inactive[0]?.reason ?? "", /period 120 is longer than the 60 minutes/);
    assert.match(set.inactive[1]?.reason ?? "", /top_n is not allowed in alarm rules/);
  });

  it("message {id} is SkyWalking's entity id; meshsight's own format takes an empty regex as no filter too", () => {
    const base64 = (text: string): string => Buffer.from(text).toString("base64");
    const service = `${base64("reviews.default")}.1`;
    assert.equal(skyWalkingEntityId({ scope: "instance", entity: "reviews-v1.default", service: "reviews.default", labels: { instance: "reviews-v1.default" } }), `${service}_${base64("reviews-v1.default")}`);
    assert.equal(skyWalkingEntityId({ scope: "endpoint", entity: "GET:/r in reviews.default", service: "reviews.default", labels: { endpoint: "GET:/r" } }), `${service}_${base64("GET:/r")}`);
    assert.equal(skyWalkingEntityId({ scope: "relation", entity: "a to reviews.default", service: "a", labels: { source: "a", destination: "reviews.default" } }), `${base64("a")}.1-${service}`);
    const [own] = parseRuleFile("rules:\n  - name: own\n    expression: sla < 95\n    include-names-regex: ''\n    exclude-names-regex: ''\n", "rules.yaml").rules;
    assert.deepEqual([own?.includeNamesRegex, own?.excludeNamesRegex], [undefined, undefined]);
  });

  it("refuses what SkyWalking refuses, naming the line: bad MQE, metrics of two scopes, a series as the result, an unknown field", () => {
    const rejects = (rule: string, message: RegExp): void => {
      assert.throws(() => parseRuleFile(`rules:\n  bad_rule:\n${rule}`, "alarm-settings.yml"), (error: unknown) => error instanceof RuleFileError && message.test(error.message), message.source);
    };
    rejects("    expression: sum(service_sla < ) >= 1\n", /^alarm-settings\.yml:3: rules\.bad_rule\.expression: expected a number, metric, function or "\(" at "\)"/);
    rejects("    expression: sum(service_sla < 8000) >= 1 && sum(endpoint_sla < 8000) >= 1\n", /all metrics of an expression must have one scope/);
    rejects("    expression: service_sla < 8000\n", /one value for the period/);
    rejects("    expression: sum(service_sla < 8000) >= 1\n    metrics-name: service_sla\n", /^alarm-settings\.yml:4: rules\.bad_rule\.metrics-name: /);
    rejects("    period: 10\n", /expression can't be empty/);
  });
});
