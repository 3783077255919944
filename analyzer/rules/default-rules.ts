/**
 * The rules in force while no rules file exists, so `npm start` alerts out of the box. Kept as YAML text
 * (not objects) so GET /api/v1/alarm-rules shows operators a file they can copy, edit and PUT back.
 */
export const DEFAULT_RULES_YAML = `# meshsight alarm rules (docs/alerting.md). Edit and PUT to /api/v1/alarm-rules, or write the rules file.
rules:
  - name: service_sla_low
    expression: sla < 95
    scope: service
    period: 5
    count: 2
    message: "Success rate of service {name} is {value}% (below {threshold}%) in {count} of the last {period} minutes"
    labels: { severity: critical }
  - name: service_p99_high
    expression: p99 > 1000
    scope: service
    period: 5
    count: 2
    message: "p99 latency of service {name} is {value} ms (above {threshold} ms) in {count} of the last {period} minutes"
    labels: { severity: warning }
  # Regressions against the service's own previous hour: a slow service that was always slow stays
  # quiet, one that became three times slower (and slower than the floor) fires.
  - name: service_latency_regression
    expression: p95 > max(3 * baseline(p95), 250)
    scope: service
    period: 5
    count: 2
    message: "p95 latency of service {name} is {value} ms, above {threshold} ms (3 x its previous hour, at least 250 ms) in {count} of the last {period} minutes"
    labels: { severity: warning }
  - name: service_error_regression
    expression: 100 - sla > max(5 * (100 - baseline(sla)), 1)
    scope: service
    period: 5
    count: 2
    message: "Error rate of service {name} is {value}%, above {threshold}% (5 x its previous hour, at least 1%) in {count} of the last {period} minutes"
    labels: { severity: warning }
  # A failing pod behind a service can hide from the service's own metrics (it logs nothing, or its
  # callers degrade gracefully): its callers' side of the call still shows the errors.
  - name: relation_sla_low
    expression: sla < 95
    scope: relation
    period: 5
    count: 2
    message: "Success rate of calls {name} is {value}% (below {threshold}%) in {count} of the last {period} minutes"
    labels: { severity: critical }
  - name: probe_failing
    expression: probe_success_rate < 100
    scope: probe
    period: 5
    count: 2
    message: "Probe {name} succeeded in {value}% of its runs (expected {threshold}%)"
    labels: { severity: warning }
`;
