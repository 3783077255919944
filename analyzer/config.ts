import { z } from "zod";
import { integerField, optionalPathField } from "../core/config/fields.ts";
import { defineSection } from "../core/config/section.ts";

/** The analyzer's settings (docs/alerting.md). Rules and health thresholds live in the rules file, not here. */
export const analyzerSection = defineSection(
  z.strictObject({
    rulesFile: optionalPathField(),
    stateFile: optionalPathField(),
    intervalMs: integerField(100, 3_600_000).default(60_000),
    healthWindowMinutes: integerField(1, 60).default(5),
    maxEntitiesPerScope: integerField(1, 1_000_000).default(5_000),
    maxAlertHistory: integerField(10, 1_000_000).default(5_000),
    maxSilences: integerField(1, 100_000).default(1_000),
    maxRootCauseLookups: integerField(0, 1_000).default(20),
    rootCauseWindowMinutes: integerField(1, 120).default(5),
    maxHealthSeries: integerField(0, 100_000).default(500),
    reloadDebounceMs: integerField(0, 60_000).default(250),
  }),
  [
    { key: "rulesFile", env: "MESHSIGHT_ALARM_RULES_FILE", flag: "alarm-rules-file", description: "YAML alarm rules and health thresholds, reloaded on change (default <dataDir>/alarm-rules.yaml; built-in rules while it does not exist)." },
    { key: "stateFile", env: "MESHSIGHT_ALERT_STATE_FILE", flag: "alert-state-file", description: "Where alerts, their history and silences are kept across restarts (default <dataDir>/alerts-state.json); with a Redis URL they are kept in Redis instead, shared by the replicas." },
    { key: "intervalMs", env: "MESHSIGHT_ANALYZER_INTERVAL_MS", flag: "analyzer-interval-ms", description: "Time between two analysis rounds (health, rules, alerts); rounds run on its boundaries, once across all replicas sharing Redis." },
    { key: "healthWindowMinutes", env: "MESHSIGHT_HEALTH_WINDOW_MINUTES", flag: "health-window-minutes", description: "Minutes of metrics each health verdict looks at." },
    { key: "maxEntitiesPerScope", env: "MESHSIGHT_ANALYZER_MAX_ENTITIES", flag: "analyzer-max-entities", description: "Entities per scope one round analyzes (busiest first); the rest are skipped and counted." },
    { key: "maxAlertHistory", env: "MESHSIGHT_ALERT_HISTORY_MAX", flag: "alert-history-max", description: "Alerts kept (firing ones always; the oldest resolved ones go first)." },
    { key: "maxSilences", env: "MESHSIGHT_SILENCES_MAX", flag: "silences-max", description: "Silences kept at once." },
    { key: "maxRootCauseLookups", env: "MESHSIGHT_ROOT_CAUSE_LOOKUPS_MAX", flag: "root-cause-lookups-max", description: "Root-cause analyses per round; further firing alerts get theirs in later rounds." },
    { key: "rootCauseWindowMinutes", env: "MESHSIGHT_ROOT_CAUSE_WINDOW_MINUTES", flag: "root-cause-window-minutes", description: "Minutes of data a root-cause analysis looks at." },
    { key: "maxHealthSeries", env: "MESHSIGHT_HEALTH_SERIES_MAX", flag: "health-series-max", description: "Services with a meshsight_service_health series (bounds its label cardinality)." },
    { key: "reloadDebounceMs", env: "MESHSIGHT_ALARM_RULES_RELOAD_DEBOUNCE_MS", flag: "alarm-rules-reload-debounce-ms", description: "Quiet time after a rules file change before it is reloaded." },
  ],
);

export type AnalyzerConfig = z.output<typeof analyzerSection.schema>;
