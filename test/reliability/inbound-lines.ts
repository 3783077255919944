import { randomUUID } from "node:crypto";

/**
 * An access-log line in Istio's text format for `POST /api/v1/logs`, as the kill -9 test and
 * bench/crash-loss.ts post them: inbound (server side), so each is one call of the posting proxy's service,
 * stamped `timeMs`, with a request id of its own.
 */
export function inboundLine(timeMs: number): string {
  return `[${new Date(timeMs).toISOString()}] "GET /orders/1 HTTP/1.1" 200 - via_upstream - "-" 0 295 7 6 "-" "curl/8.5.0" "${randomUUID()}" "orders:9080" "10.44.1.27:9080" inbound|9080|| 127.0.0.6:41854 10.44.1.27:9080 10.44.1.23:37652 outbound_.9080_._.orders.default.svc.cluster.local default`;
}
