/**
 * The decoder's memos (interned strings, memoized addresses and peers) must be invisible in its output:
 * a warm memo decodes exactly what a fresh one does, and the byte-level shortcuts (header names, trace
 * ids, certificates, filter-state keys) agree with the plain string rules they replace.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AccessLogEntry } from "../../../../core/model/access-log.ts";
import { DecoderMemo } from "../../../../collector/receivers/envoy-als/decoder-memo.ts";
import { decodeAlsMessage } from "../../../../collector/receivers/envoy-als/message-decoder.ts";
import { type HttpEntrySpec, httpEntry, streamMessage } from "../../../../collector/simulator/envoy-entries.ts";
import { protocol } from "./harness.ts";

const base: HttpEntrySpec = { startTimeMs: 1_700_000_000_000, method: "GET", authority: "reviews:9080", path: "/reviews/0", upstreamCluster: "inbound|9080||" };

function decodeWith(memo: DecoderMemo, specs: readonly HttpEntrySpec[]): AccessLogEntry[] {
  const decoded = decodeAlsMessage(protocol.encode(streamMessage({ http: specs.map(httpEntry) }), "v3"), memo);
  assert.equal(decoded.badEntries, 0);
  assert.equal(decoded.malformedReason, "");
  return decoded.entries;
}

const decodeOne = (spec: Partial<HttpEntrySpec>, memo = new DecoderMemo()): AccessLogEntry => decodeWith(memo, [{ ...base, ...spec }])[0] as AccessLogEntry;

test("a warm memo decodes exactly what a fresh one does", () => {
  const specs: HttpEntrySpec[] = [];
  for (let index = 0; index < 200; index++) {
    specs.push({
      ...base,
      path: `/reviews/${index % 7}`,
      userAgent: index % 2 === 0 ? "python-requests/2.31.0" : "Mozilla/5.0 ✓",
      requestId: `req-${index}`,
      downstreamRemote: `10.44.${index % 3}.7:${32_768 + index}`,
      downstreamLocal: index % 5 === 0 ? "[fd00::9]:9080" : "10.44.3.13:9080",
      upstreamRemote: "10.44.3.13:9080",
      upstreamLocal: `127.0.0.6:${40_000 + index}`,
      tls: { sni: "outbound_.9080_._.reviews.default.svc.cluster.local", localUri: "spiffe://cluster.local/ns/default/sa/reviews", peerUri: "spiffe://cluster.local/ns/default/sa/productpage" },
      upstreamPeer: index % 3 === 0 ? { name: `ratings-v1-${index % 4}`, namespace: "default", service: "ratings" } : undefined,
    });
  }
  const memo = new DecoderMemo();
  const warmUp = decodeWith(memo, specs);
  const warm = decodeWith(memo, specs);
  assert.deepEqual(warm, decodeWith(new DecoderMemo(), specs));
  assert.deepEqual(warm, warmUp);
  assert.equal(warm[3]?.downstreamRemoteAddress, "10.44.0.7:32771");
  assert.equal(warm[5]?.downstreamLocalAddress, "[fd00::9]:9080");
  assert.equal(warm[4]?.upstreamLocalAddress, "127.0.0.6:40004");
});

test("addresses print as Envoy prints them, memoized or not", () => {
  const memo = new DecoderMemo();
  for (let round = 0; round < 2; round++) {
    const entry = decodeOne({ downstreamRemote: "[fd00::1]:50001", downstreamLocal: "10.0.0.1:0", upstreamRemote: "10.0.0.2:65535", upstreamLocal: "[::1]:1" }, memo);
    assert.equal(entry.downstreamRemoteAddress, "[fd00::1]:50001");
    assert.equal(entry.downstreamLocalAddress, "10.0.0.1:0");
    assert.equal(entry.upstreamRemoteAddress, "10.0.0.2:65535");
    assert.equal(entry.upstreamLocalAddress, "[::1]:1");
  }
  const manual = (address: Record<string, unknown>): AccessLogEntry => {
    const message = { http_logs: { log_entry: [{ common_properties: { upstream_remote_address: address }, request: { path: "/m" } }] } };
    return decodeAlsMessage(protocol.encode(message, "v3"), memo).entries[0] as AccessLogEntry;
  };
  assert.equal(manual({ socket_address: { address: "10.2.2.2", named_port: "http" } }).upstreamRemoteAddress, "10.2.2.2:http");
  assert.equal(manual({ socket_address: { address: "10.2.2.3" } }).upstreamRemoteAddress, "10.2.2.3");
  assert.equal(manual({ pipe: { path: "/var/run/ü.sock" } }).upstreamRemoteAddress, "/var/run/ü.sock");
  assert.equal(manual({ envoy_internal_address: { server_listener_name: "x", endpoint_id: "10.1.1.1:80" } }).upstreamRemoteAddress, "10.1.1.1:80");
});

test("repeated strings and pod addresses come back as the same string objects", () => {
  const memo = new DecoderMemo();
  const [first, second] = decodeWith(memo, [
    { ...base, upstreamRemote: "10.44.3.13:9080", downstreamRemote: "10.44.1.2:40001", upstreamCluster: "outbound|9080||reviews.default.svc.cluster.local" },
    { ...base, upstreamRemote: "10.44.3.13:9080", downstreamRemote: "10.44.1.2:40002", upstreamCluster: "outbound|9080||reviews.default.svc.cluster.local" },
  ]) as [AccessLogEntry, AccessLogEntry];
  assert.ok(Object.is(first.upstreamRemoteAddress, second.upstreamRemoteAddress));
  assert.equal(second.downstreamRemoteAddress, "10.44.1.2:40002");
  assert.equal(second.upstreamCluster, "outbound|9080||reviews.default.svc.cluster.local");
});

test("trace ids follow the traceparent and B3 rules on the raw header bytes", () => {
  const traceId = "0af7651916cd43dd8448eb211c80319c";
  const withHeaders = (requestHeaders: Record<string, string>): string => decodeOne({ requestHeaders }).traceId;
  assert.equal(withHeaders({ traceparent: `00-${traceId}-b7ad6b7169203331-01` }), traceId);
  assert.equal(withHeaders({ TraceParent: `00-${traceId}-b7ad6b7169203331-01` }), traceId, "header names are case-insensitive");
  assert.equal(withHeaders({ traceparent: `00-${traceId}` }), traceId, "the trace id may end the value");
  assert.equal(withHeaders({ traceparent: "00-short-b7ad6b7169203331-01" }), "", "a trace id of the wrong length is ignored");
  assert.equal(withHeaders({ traceparent: "nodash" }), "");
  assert.equal(withHeaders({ traceparent: "00-0af7651916cd43dd8448eb211c80319ü-01" }), "0af7651916cd43dd8448eb211c80319ü", "32 characters, not 32 bytes");
  assert.equal(withHeaders({ "x-b3-traceid": "b3b3" }), "b3b3");
  assert.equal(withHeaders({ "X-B3-TraceId": "b3b3", traceparent: `00-${traceId}-b7ad6b7169203331-01` }), traceId, "traceparent wins");
  assert.equal(withHeaders({ traceparent: `00-${traceId}-b7ad6b7169203331-01`, "x-b3-traceid": "b3b3" }), traceId, "whatever the order");
  assert.equal(withHeaders({ "traceparent-x": `00-${traceId}-b7ad6b7169203331-01`, "x-b3-traceidx": "b3" }), "", "only those exact names");
});

test("a certificate counts only with a subject or a non-empty URI SAN", () => {
  assert.equal(decodeOne({ tls: { sni: "s", localUri: "spiffe://a", peerUri: "spiffe://b" } }).tlsMode, "mtls");
  assert.equal(decodeOne({ tls: { sni: "s", localUri: "spiffe://a", peerUri: "" } }).tlsMode, "tls");
  assert.equal(decodeOne({ tls: { sni: "s", localUri: "" } }).tlsMode, "none");
  const withSubject = {
    http_logs: { log_entry: [{ common_properties: { tls_properties: { local_certificate_properties: { subject: "CN=x" }, peer_certificate_properties: { subject: "" } } } }] },
  };
  assert.equal(decodeAlsMessage(protocol.encode(withSubject, "v3"), new DecoderMemo()).entries[0]?.tlsMode, "tls");
});

/** Struct bytes of string fields, written by hand (short keys and values: one-byte lengths). */
function structBytes(fields: Record<string, string>): Uint8Array {
  const field = (number: number, bytes: readonly number[]): number[] => [(number << 3) | 2, bytes.length, ...bytes];
  const text = (value: string): number[] => [...Buffer.from(value)];
  return Uint8Array.from(Object.entries(fields).flatMap(([key, value]) => field(1, [...field(1, text(key)), ...field(2, field(3, text(value)))])));
}

test("filter state is recognised by its exact key and type", () => {
  const value = structBytes({ name: "ratings-v1-abc", namespace: "default", service: "ratings" });
  const peersOf = (key: string, typeUrl = "type.googleapis.com/google.protobuf.Struct"): AccessLogEntry =>
    decodeOne({ extraFilterState: { [key]: { type_url: typeUrl, value } } });
  assert.equal(peersOf("upstream_peer").upstreamPeer?.name, "ratings-v1-abc");
  assert.equal(peersOf("downstream_peer").downstreamPeer?.service, "ratings");
  assert.equal(peersOf("upstream_peerx").upstreamPeer, null);
  assert.equal(peersOf("Upstream_peer").upstreamPeer, null);
  assert.equal(peersOf("upstream_peer", "type.googleapis.com/google.protobuf.Value").upstreamPeer, null);
  assert.equal(peersOf("upstream_peer", "Struct").upstreamPeer, null);
});
