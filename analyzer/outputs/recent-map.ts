export { RecentMap } from "../../core/collections/recent-map.ts";

/** One key per output and alert; NUL cannot appear in either. */
export function outputAlertKey(output: string, alertId: string): string {
  return `${output}\u0000${alertId}`;
}
