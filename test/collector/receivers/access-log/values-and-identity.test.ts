import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { detachedSlice, parseGoDurationMs, parseRfc3339Ms } from "../../../../collector/receivers/access-log/field-values.ts";
import { identityFromPath, resolveSourceIdentity, workloadNameFromPod } from "../../../../collector/receivers/access-log/source-identity.ts";

function duration(text: string): number {
  return parseGoDurationMs(text, 0, text.length);
}

function time(text: string): number {
  return parseRfc3339Ms(text, 0, text.length);
}

describe("value decoders", () => {
  it("reads Go durations as MOSN prints them", () => {
    assert.equal(duration("1.329µs"), 0.001329);
    assert.equal(duration("1.329μs"), 0.001329); // Greek mu, which Go also accepts
    assert.equal(duration("2.00000227s"), 2000.00227);
    assert.equal(duration("126.868µs"), 0.126868);
    assert.equal(duration("1h2m3.5s"), 3_723_500);
    assert.equal(duration("15ms"), 15);
    assert.equal(duration("250ns"), 0.00025);
    assert.equal(duration("0s"), 0);
    assert.equal(duration("0"), 0);
    for (const bad of ["", "5", "s", "1.2.3s", "-1s", "3 s", "1d"]) assert.ok(Number.isNaN(duration(bad)), bad);
  });

  it("copies a value that outlives its line instead of keeping the line alive", () => {
    setFlagsFromString("--expose-gc");
    const collectGarbage = runInNewContext("gc") as () => void;
    const lineCount = 200;
    const held: string[] = [];
    collectGarbage();
    const before = getHeapStatistics().used_heap_size;
    for (let index = 0; index < lineCount; index++) {
      // 100 KB lines: a value sliced from each would keep ~20 MB alive.
      const line = `${String(index).padStart(100_000, "x")} 6f1e3b9a-4a8c-4b7e-9d2f-${String(index).padStart(12, "0")} -`;
      held.push(detachedSlice(line, 100_001, 100_037));
    }
    collectGarbage();
    const kept = getHeapStatistics().used_heap_size - before;
    assert.ok(kept < 2_000_000, `${kept} bytes kept for ${lineCount} request ids`);
    assert.equal(held[7], "6f1e3b9a-4a8c-4b7e-9d2f-000000000007");
  });

  it("reads RFC 3339 times with Z, offsets or none, and epochs", () => {
    assert.equal(time("2020-11-25T21:26:18.409Z"), Date.UTC(2020, 10, 25, 21, 26, 18, 409));
    assert.equal(time("2020-11-25T21:26:18Z"), Date.UTC(2020, 10, 25, 21, 26, 18));
    assert.equal(time("2020-11-25T21:26:18.409123Z"), Date.UTC(2020, 10, 25, 21, 26, 18, 409));
    assert.equal(time("2020-11-25T23:26:18.409+02:00"), Date.UTC(2020, 10, 25, 21, 26, 18, 409));
    assert.equal(time("1606339578"), 1_606_339_578_000);
    assert.equal(time("1606339578409"), 1_606_339_578_409);
    for (const bad of ["2020-11-25", "2020-11-25T21:26:18.409Q", "2020-1x-25T21:26:18Z", "yesterday"]) assert.ok(Number.isNaN(time(bad)), bad);
  });

  it("decodes each time of one minute on its own, leap and bad seconds included", () => {
    assert.equal(time("2020-11-25T21:26:18.409Z"), Date.UTC(2020, 10, 25, 21, 26, 18, 409));
    assert.equal(time("2020-11-25T21:26:59.999Z"), Date.UTC(2020, 10, 25, 21, 26, 59, 999));
    assert.equal(time("2020-11-25T21:26:60Z"), Date.UTC(2020, 10, 25, 21, 26, 60), "a leap second, as Date.UTC takes it");
    for (const bad of ["2020-11-25T21:26:61Z", "2020-11-25T21:26:1xZ", "2020-11-25T21:26"]) assert.ok(Number.isNaN(time(bad)), bad);
    assert.equal(time("2020-11-25T21:26:18.409"), Date.UTC(2020, 10, 25, 21, 26, 18, 409), "no zone reads as UTC");
    assert.equal(time("2020-11-25T21:27:00.001Z"), Date.UTC(2020, 10, 25, 21, 27, 0, 1));
    assert.equal(time("2020-11-25T21:26:18.409+02:00"), Date.UTC(2020, 10, 25, 19, 26, 18, 409), "the same minute text with an offset");
    assert.ok(Number.isNaN(time("2020-13-25T21:26:18Z")));
    assert.ok(Number.isNaN(time("2020-13-25T21:26:19Z")));
  });

  it("computes calendar dates as Date.UTC does, leap years and rollover included", () => {
    const pad = (value: number, width: number): string => String(value).padStart(width, "0");
    // Every day of years around leap rules (1900 no, 2000 yes, 2024 yes, 2100 no), plus days past a month's end.
    for (const year of [1600, 1899, 1900, 1970, 1999, 2000, 2023, 2024, 2100, 2400, 9999]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          const hour = (day * 7) % 24;
          const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(day, 2)}:${pad(day % 61, 2)}.250Z`;
          assert.equal(time(text), Date.UTC(year, month - 1, day, hour, day, day % 61, 250), text);
        }
      }
    }
    assert.equal(time("0099-03-01T00:00:00Z"), Date.UTC(99, 2, 1), "two-digit years as Date.UTC reads them");
    for (const bad of ["2020-13-01T00:00:00Z", "2020-00-10T00:00:00Z", "2020-01-32T00:00:00Z", "2020-01-01T24:00:00Z", "20x0-01-01T00:00:00Z"]) {
      assert.ok(Number.isNaN(time(bad)), bad);
    }
  });
});

describe("source identity", () => {
  it("derives workload names from pod names", () => {
    assert.equal(workloadNameFromPod("reviews-v1-d66dcfdc5-kh6v7"), "reviews-v1");
    assert.equal(workloadNameFromPod("istio-ingressgateway-699c7dc774-hjxq5"), "istio-ingressgateway");
    assert.equal(workloadNameFromPod("fluentd-x7k2p"), "fluentd");
    assert.equal(workloadNameFromPod("web-0"), "web");
    assert.equal(workloadNameFromPod("standalone"), "standalone");
    assert.equal(workloadNameFromPod("my-app"), "my-app"); // "app" has a vowel: not a random suffix
  });

  it("reads kubelet's pod and container log paths; gateways become routers", () => {
    const pod = identityFromPath("/var/log/pods/default_reviews-v1-d66dcfdc5-kh6v7_5f1c/istio-proxy/0.log", "kubernetes");
    assert.deepEqual(pod?.self, { service: "reviews-v1.default", instance: "reviews-v1-d66dcfdc5-kh6v7.default" });
    assert.equal(pod?.role, "sidecar");
    const container = identityFromPath(
      `/var/log/containers/istio-ingressgateway-699c7dc774-hjxq5_istio-system_istio-proxy-${"ab".repeat(32)}.log`,
      "kubernetes",
    );
    assert.deepEqual(container?.self, { service: "istio-ingressgateway.istio-system", instance: "istio-ingressgateway-699c7dc774-hjxq5.istio-system" });
    assert.equal(container?.role, "router");
    assert.equal(identityFromPath("/tmp/access.log", "kubernetes"), null);
  });

  it("uses custom patterns, static identities and the fallback for unmatched paths", () => {
    const custom = resolveSourceIdentity({ kind: "path", pattern: /\/logs\/(?<namespace>[^/]+)\/(?<service>[^/]+)\.log$/, role: "waypoint" }, "/srv/logs/shop/cart.log");
    assert.deepEqual(custom.self, { service: "cart.shop", instance: "" });
    assert.equal(custom.role, "waypoint");
    const fallback = resolveSourceIdentity({ kind: "path", pattern: "kubernetes", fallback: { service: "edge", ip: "10.0.0.1" } }, "/tmp/x.log");
    assert.deepEqual(fallback.self, { service: "edge", instance: "" });
    assert.equal(fallback.ip, "10.0.0.1");
    assert.equal(resolveSourceIdentity({ kind: "path", pattern: "kubernetes" }, "/tmp/x.log").self.service, "UNKNOWN");
  });
});
