/**
 * The load generator of bench/als-e2e.ts, run as its own process so its CPU does not count: plays
 * bookinfo ALS traffic (real gRPC, Istio-shaped entries) as fast as the receiver takes it, then prints the
 * simulator's report as JSON on the last line.
 *
 *   npx tsx bench/als-load-client.ts <host:port> <requests> [drop peer metadata share] [drop mTLS share]
 */
import { simulateBookinfo } from "../collector/simulator/simulate-bookinfo.ts";

const [target = "127.0.0.1:11800", requestsText = "20000", dropPeerMetadata = "0", dropMtls = "0"] = process.argv.slice(2);
const requests = Number(requestsText);
// Simulated times span the last minute, inside the collector's lateness window, as live traffic does.
const report = await simulateBookinfo({ target, requests, startTimeMs: Date.now() - 60_000, durationMs: 60_000, tcp: true, batchSize: 50, dropPeerMetadata: Number(dropPeerMetadata), dropMtls: Number(dropMtls) });
process.stdout.write(`${JSON.stringify({ entries: report.entries.http + report.entries.tcp, streamErrors: report.streamErrors })}\n`);
