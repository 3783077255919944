import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { CallerPairing } from "../../../collector/mesh/caller-pairing.ts";
import type { MeshCall } from "../../../core/model/access-log.ts";
import { metricValue } from "../receivers/envoy-als/harness.ts";
import { meshCall } from "../aggregate/fixtures.ts";

const PRODUCTPAGE = { service: "productpage.default", instance: "productpage-v1.default" };
const UNKNOWN = { service: "UNKNOWN", instance: "" };

function serverLeg(requestId: string): MeshCall {
  return meshCall({ detectPoint: "server", source: UNKNOWN, callerLookup: "mesh", requestId });
}

function clientLeg(requestId: string): MeshCall {
  return meshCall({ detectPoint: "client", source: PRODUCTPAGE, requestId });
}

function pairingWith(options: { maxWaiting?: number; maxCallersPerGeneration?: number } = {}) {
  const registry = new Registry();
  const paired: MeshCall[] = [];
  const pairing = new CallerPairing({ registry, onPaired: (call) => paired.push(call), windowMs: 10_000, ...options });
  return { pairing, paired, registry };
}

test("a waiting leg is completed by its caller's leg, and given up after the window", async () => {
  const { pairing, paired, registry } = pairingWith();
  pairing.rotateIfDue(0);
  const early = serverLeg("req-1");
  pairing.await(early);
  pairing.await(serverLeg("req-2"));
  pairing.noteClientLeg(clientLeg("req-1"));
  assert.deepEqual(paired, [early]);
  assert.deepEqual(early.source, PRODUCTPAGE);
  assert.equal(early.callerLookup, "none");
  pairing.rotateIfDue(4_999);
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "no_client_leg" }), 0, "half a window is not over");
  pairing.rotateIfDue(5_000);
  pairing.rotateIfDue(10_000);
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "no_client_leg" }), 1);
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_entries", { kind: "waiting" }), 0);
});

test("two callers logging one request id towards one service name neither", () => {
  const { pairing } = pairingWith();
  pairing.noteClientLeg(clientLeg("req-1"));
  pairing.noteClientLeg(meshCall({ detectPoint: "client", source: { service: "details.default", instance: "" }, requestId: "req-1" }));
  const leg = serverLeg("req-1");
  assert.equal(pairing.attribute(leg), false);
  assert.equal(leg.source.service, "UNKNOWN");
});

test("the bounds hold: waiting legs past the cap are counted at once, a full index drops its older half early", async () => {
  const { pairing, registry } = pairingWith({ maxWaiting: 2, maxCallersPerGeneration: 3 });
  for (const id of ["a", "b", "c"]) pairing.await(serverLeg(id));
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "pairing_full" }), 1);
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_entries", { kind: "waiting" }), 2);
  for (const id of ["1", "2", "3", "4", "5", "6", "7"]) pairing.noteClientLeg(clientLeg(id));
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_early_rotations_total"), 2);
  assert.ok((await metricValue(registry, "meshsight_caller_pairing_entries", { kind: "callers" })) <= 6);
  pairing.await(serverLeg(""));
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "no_request_id" }), 1);
});

test("an input's window pairs only its own legs, by its own time, and closing it gives up what waits", async () => {
  const { pairing, paired, registry } = pairingWith();
  const file = pairing.anotherInput();
  pairing.rotateIfDue(Date.now());
  file.rotateIfDue(1_000);
  const live = serverLeg("req-1");
  pairing.await(live);
  const history = serverLeg("req-1");
  file.await(history);
  file.noteClientLeg(clientLeg("req-1"));
  assert.deepEqual(paired, [history], "the live leg waits on: the file's caller is of another time");
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_entries", { kind: "waiting" }), 1);
  file.await(serverLeg("req-2"));
  file.rotateIfDue(5_999);
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "no_client_leg" }), 0, "half a window of the file's time is not over");
  file.rotateIfDue(6_000);
  file.rotateIfDue(11_000);
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "no_client_leg" }), 1, "req-2 waited a whole window of the file's time");
  file.await(serverLeg("req-3"));
  file.close();
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "no_client_leg" }), 2, "req-3 given up when its input ended");
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_entries", { kind: "callers" }), 0);
  pairing.expireEveryWindow();
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "no_client_leg" }), 3, "the live leg given up at shutdown");
});

test("the windows of one pairing share its bounds", async () => {
  const { pairing, registry } = pairingWith({ maxWaiting: 2, maxCallersPerGeneration: 3 });
  const file = pairing.anotherInput();
  pairing.await(serverLeg("a"));
  file.await(serverLeg("b"));
  file.await(serverLeg("c"));
  assert.equal(await metricValue(registry, "meshsight_unattributed_calls_total", { reason: "pairing_full" }), 1);
  for (const id of ["1", "2", "3", "4", "5", "6"]) pairing.noteClientLeg(clientLeg(id));
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_early_rotations_total"), 1);
  file.noteClientLeg(clientLeg("7"));
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_early_rotations_total"), 2, "the live window holds two half windows' worth: the file's is cut short");
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_entries", { kind: "callers" }), 7);
  file.noteClientLeg(clientLeg("8"));
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_early_rotations_total"), 3);
  assert.equal(await metricValue(registry, "meshsight_caller_pairing_entries", { kind: "callers" }), 8, "a window starved of room still holds its newest legs");
});
