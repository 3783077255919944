/**
 * Micro benchmark of the ALS decoder: decodes recorded StreamAccessLogsMessage buffers (bookinfo traffic
 * encoded by the simulator's protobufjs encoder) and prints entries per CPU-second. Figures only, never
 * asserted (docs/architecture.md, "Performance notes": the whole collector targets >= 100k entries/CPU-s).
 * Usage: npx tsx bench/als-decode.ts [requests=5000] [rounds=5]
 */
import { decodeAlsMessage } from "../collector/receivers/envoy-als/message-decoder.ts";
import { DecoderMemo } from "../collector/receivers/envoy-als/decoder-memo.ts";
import { loadAlsProtocol } from "../collector/simulator/als-protocol.ts";
import { BookinfoTraffic } from "../collector/simulator/bookinfo-traffic.ts";
import { streamMessage } from "../collector/simulator/envoy-entries.ts";
import { emptyReport } from "../collector/simulator/traffic-report.ts";

const requests = Number(process.argv[2] ?? 5_000);
const rounds = Number(process.argv[3] ?? 5);
const BATCH_SIZE = 20;

const protocol = loadAlsProtocol();
const traffic = new BookinfoTraffic({ requests, startTimeMs: Date.now() - requests * 10, intervalMs: 10, faults: [], tcp: true, dropPeerMetadata: Number(process.argv[4] ?? 0.5), dropMtls: 0, seed: 7 }, emptyReport());
const messages: Buffer[] = [];
const pendingByProxy = new Map<string, { http: Record<string, unknown>[]; tcp: Record<string, unknown>[] }>();
let entryCount = 0;
for (const requestEntries of traffic.requests()) {
  for (const { proxy, kind, entry } of requestEntries) {
    const pending = pendingByProxy.get(proxy.name) ?? { http: [], tcp: [] };
    pendingByProxy.set(proxy.name, pending);
    pending[kind].push(entry);
    entryCount++;
    if (pending[kind].length === BATCH_SIZE) {
      messages.push(protocol.encode(streamMessage({ [kind]: pending[kind] }), "v3"));
      pending[kind] = [];
    }
  }
}
for (const pending of pendingByProxy.values()) {
  if (pending.http.length > 0) messages.push(protocol.encode(streamMessage({ http: pending.http }), "v3"));
  if (pending.tcp.length > 0) messages.push(protocol.encode(streamMessage({ tcp: pending.tcp }), "v3"));
}
const totalBytes = messages.reduce((sum, message) => sum + message.length, 0);
process.stdout.write(`${messages.length} messages, ${entryCount} entries, ${(totalBytes / entryCount).toFixed(0)} bytes/entry\n`);

// One memo for the run, as one receiver keeps one: real proxies log the same peers and addresses over and over.
const memo = new DecoderMemo();
for (let round = 0; round < rounds; round++) {
  const cpuBefore = process.cpuUsage();
  let decoded = 0;
  for (const message of messages) decoded += decodeAlsMessage(message, memo).entries.length;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  process.stdout.write(`round ${round + 1}: ${decoded} entries in ${(cpuSeconds * 1000).toFixed(1)} ms CPU = ${Math.round(decoded / cpuSeconds).toLocaleString("en")} entries/CPU-s (${((cpuSeconds * 1e6) / decoded).toFixed(2)} µs/entry)\n`);
}
