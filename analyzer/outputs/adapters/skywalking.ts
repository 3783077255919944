import type { Alert } from "../../../core/model/alert.ts";
import { httpStatusVerdict, JSON_HEADERS, sendsToPeople, type OutputAdapter } from "./adapter.ts";
import { rootCauseLine } from "./alert-text.ts";

/**
 * One element of SkyWalking's webhook body, a JSON array of org.apache.skywalking.oap.server.core.alarm.AlarmMessage
 * (docs/en/setup/backend/backend-alarm.md). `uuid` and `recoveryTime` are the 10.x recovery fields: the same
 * uuid in the trigger and the recovery message, recoveryTime null until recovered.
 */
export interface SkyWalkingAlarmMessage {
  scopeId: number;
  scope: string;
  name: string;
  uuid: string;
  id0: string;
  id1: string;
  ruleName: string;
  alarmMessage: string;
  startTime: number;
  recoveryTime: number | null;
  tags: { key: string; value: string }[];
}

/** DefaultScopeDefine ids and names; a probe has no SkyWalking scope, and the service it checks is closest. */
const SCOPES: Record<Alert["scope"], { scopeId: number; scope: string }> = {
  service: { scopeId: 1, scope: "SERVICE" },
  instance: { scopeId: 2, scope: "SERVICE_INSTANCE" },
  endpoint: { scopeId: 3, scope: "ENDPOINT" },
  relation: { scopeId: 4, scope: "SERVICE_RELATION" },
  probe: { scopeId: 1, scope: "SERVICE" },
};

/** SkyWalking names a relation "<source> to <destination>"; id0/id1 carry the two ends. */
function relationEnds(entity: string): [string, string] {
  const separator = [" -> ", " to "].find((candidate) => entity.includes(candidate));
  if (separator === undefined) return [entity, ""];
  const at = entity.indexOf(separator);
  return [entity.slice(0, at), entity.slice(at + separator.length)];
}

export function toAlarmMessage(alert: Alert, isRecovery: boolean): SkyWalkingAlarmMessage {
  const [id0, id1] = alert.scope === "relation" ? relationEnds(alert.entity) : [alert.entity, ""];
  const tags = Object.entries(alert.labels).map(([key, value]) => ({ key, value }));
  // Receivers built for SkyWalking show alarmMessage and tags only, so the verdict goes in both.
  if (alert.rootCause) tags.push({ key: "root_cause", value: alert.rootCause.service });
  const rootCause = alert.rootCause ? `; root cause: ${rootCauseLine(alert.rootCause)}` : "";
  return {
    ...SCOPES[alert.scope],
    name: alert.scope === "relation" && id1 !== "" ? `${id0} to ${id1}` : alert.entity,
    uuid: alert.id,
    id0,
    id1,
    ruleName: alert.rule,
    alarmMessage: `${alert.message}${rootCause}`,
    startTime: alert.startsAtMs,
    recoveryTime: isRecovery ? alert.endsAtMs || null : null,
    tags,
  };
}

export const skywalkingAdapter: OutputAdapter = {
  sendsChange: sendsToPeople,
  render({ alert, change }, { target }) {
    return { url: target.url, headers: { ...JSON_HEADERS }, body: JSON.stringify([toAlarmMessage(alert, change === "resolved")]) };
  },
  readReply: httpStatusVerdict,
};
