import type { Logger } from "pino";
import type { RoundChanges } from "./alert-book.ts";

/**
 * One info line per alert that fired or resolved in a round, with its root cause when one was found, so a
 * person watching the console sees a fault come and go without opening the page.
 */
export function logAlertChanges(logger: Logger, changes: Pick<RoundChanges, "fired" | "resolved">): void {
  for (const [change, records] of [["fired", changes.fired], ["resolved", changes.resolved]] as const) {
    for (const { alert } of records) {
      const cause = alert.rootCause === null ? "" : `; root cause ${alert.rootCause.service}${alert.rootCause.instance === "" ? "" : ` (${alert.rootCause.instance})`}: ${alert.rootCause.reason}`;
      logger.info(
        { component: "analyzer", alert: alert.id, rule: alert.rule, scope: alert.scope, entity: alert.entity, ...(alert.rootCause === null ? {} : { rootCause: alert.rootCause.service }) },
        `alert ${change}: ${alert.rule} on ${alert.entity}${cause}`,
      );
    }
  }
}
