import assert from "node:assert/strict";
import { test } from "node:test";
import { parseFault, parseSimulateArgs, SimulateUsageError } from "../../../collector/simulator/simulate-command.ts";

test("simulate flags become simulator options", () => {
  const options = parseSimulateArgs(["--target", "10.0.0.1:11800", "--rate", "50", "--duration", "2", "--fault", "ratings:abort:0.5", "--fault", "details:delay:300", "--tcp", "--v2"]);
  assert.equal(options.target, "10.0.0.1:11800");
  assert.equal(options.ratePerSecond, 50);
  assert.equal(options.durationMs, 2000);
  assert.equal(options.realTime, true);
  assert.equal(options.version, "v2");
  assert.equal(options.tcp, true);
  assert.deepEqual(options.faults, [
    { kind: "abort", service: "ratings", fraction: 0.5 },
    { kind: "delay", service: "details", delayMs: 300 },
  ]);
  assert.deepEqual(parseFault("pod-down:reviews-v2-abc"), { kind: "pod-down", pod: "reviews-v2-abc" });
  assert.deepEqual(parseFault("pod-absent:reviews-v2-abc"), { kind: "pod-absent", pod: "reviews-v2-abc" });
  assert.equal(options.dropPeerMetadata, 0, "peer metadata on every meshed request by default");
  assert.equal(options.dropMtls, 0);
});

test("the drop flags take shares, and the target defaults to the configured ALS port", () => {
  const options = parseSimulateArgs(["--drop-peer-metadata", "0.5", "--drop-mtls", "1"], "127.0.0.1:21800");
  assert.equal(options.dropPeerMetadata, 0.5);
  assert.equal(options.dropMtls, 1);
  assert.equal(options.target, "127.0.0.1:21800");
  assert.equal(parseSimulateArgs([]).target, "127.0.0.1:11800");
});

test("bad simulate flags are usage errors that say what is wrong", () => {
  for (const [args, message] of [
    [["--rate", "fast"], /--rate expects a positive number/],
    [["--fault", "ratingz:abort:0.5"], /unknown service "ratingz"/],
    [["--fault", "ratings:abort:7"], /abort expects a fraction/],
    [["--fault", "ratings:explode"], /expected SERVICE:abort/],
    [["--bogus"], /Unknown option '--bogus'/],
    [["--drop-peer-metadata", "1.5"], /--drop-peer-metadata expects a share from 0 to 1/],
    [["--drop-mtls", ""], /--drop-mtls expects a share from 0 to 1/],
  ] as const) {
    assert.throws(() => parseSimulateArgs(args), (error: unknown) => error instanceof SimulateUsageError && message.test(error.message));
  }
});
