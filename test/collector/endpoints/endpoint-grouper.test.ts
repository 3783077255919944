import assert from "node:assert/strict";
import { test } from "node:test";
import { Registry } from "prom-client";
import { EndpointGrouper, OVERFLOW_ENDPOINT, type EndpointGrouperOptions } from "../../../collector/endpoints/endpoint-grouper.ts";

function grouper(options: Partial<EndpointGrouperOptions> = {}): { grouper: EndpointGrouper; registry: Registry } {
  const registry = new Registry();
  return { grouper: new EndpointGrouper({ registry, ...options }), registry };
}

async function overflowTotal(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric("meshsight_endpoint_overflow_total")?.get();
  return metric?.values[0]?.value ?? Number.NaN;
}

void test("HTTP endpoints are METHOD:/grouped/path without the query; gRPC paths stay as they are", () => {
  const { grouper: g } = grouper();
  assert.equal(g.nameEndpoint("shop.default", "GET", "/api/products/42?color=red#top", "http"), "GET:/api/products/{id}");
  assert.equal(g.nameEndpoint("shop.default", "POST", "/api/carts/507f1f77bcf86cd799439011/items", "http"), "POST:/api/carts/{hex}/items");
  assert.equal(g.nameEndpoint("shop.default", "GET", "", "http"), "GET:/");
  assert.equal(g.nameEndpoint("cart.default", "POST", "/hipstershop.CartService/AddItem", "grpc"), "/hipstershop.CartService/AddItem");
});

void test("user rules win over automatic grouping, a service's own rules over global ones", () => {
  const { grouper: g } = grouper({
    rules: [
      { pattern: "/api/products/{sku}", service: "shop.default" },
      { pattern: "/api/products/{name}" },
      { pattern: "/users/{uid}/orders/{*}" },
    ],
  });
  assert.equal(g.nameEndpoint("shop.default", "GET", "/api/products/red-shirt", "http"), "GET:/api/products/{sku}");
  assert.equal(g.nameEndpoint("other.default", "GET", "/api/products/red-shirt", "http"), "GET:/api/products/{name}");
  assert.equal(g.nameEndpoint("other.default", "GET", "/users/jane/orders/12/items", "http"), "GET:/users/{uid}/orders/{*}");
  assert.equal(g.nameEndpoint("other.default", "GET", "/users/jane/profile/12", "http"), "GET:/users/jane/profile/{id}");
});

void test("overlong paths are cut at a segment boundary", () => {
  const { grouper: g } = grouper({ maxPathLength: 20 });
  assert.equal(g.nameEndpoint("s", "GET", "/abcdef/ghijkl/mnopqr/stuvwx", "http"), "GET:/abcdef/ghijkl/{truncated}");
});

void test("THE CAP: a million distinct URLs from one client keep the endpoint count and every structure bounded", async () => {
  const cap = 1000;
  const cacheEntriesPerService = 256;
  const { grouper: g, registry } = grouper({ maxEndpointsPerService: cap, cacheEntriesPerService, clock: () => 1_700_000_000_000 });
  const names = new Set<string>();
  let overflowed = 0;
  for (let i = 0; i < 1_000_000; i++) {
    // Letters only, so automatic grouping cannot fold them: the cap is what has to hold.
    const name = g.nameEndpoint("victim.default", "GET", `/search/${i.toString(26).replace(/[0-9]/g, (d) => "qrstuvwxyz"[Number(d)] ?? "q")}`, "http");
    names.add(name);
    if (name === OVERFLOW_ENDPOINT) overflowed++;
  }
  assert.equal(names.size, cap + 1, "cap distinct names plus the overflow endpoint");
  assert.equal(overflowed, 1_000_000 - cap);
  const stats = g.stats();
  assert.equal(stats.services, 1);
  assert.equal(stats.knownEndpoints, cap);
  assert.ok(stats.cachedPaths <= 2 * cacheEntriesPerService, `cache holds ${stats.cachedPaths}`);
  assert.deepEqual(g.servicesAtCap(), [{ service: "victim.default", endpoints: cap, overflowedCalls: 1_000_000 - cap }]);
  assert.equal(await overflowTotal(registry), 1_000_000 - cap);
  // Known endpoints keep their names at the cap; other services are unaffected.
  assert.equal(g.nameEndpoint("victim.default", "GET", "/search/a", "http"), "GET:/search/a");
  assert.equal(g.nameEndpoint("calm.default", "GET", "/health", "http"), "GET:/health");
});

void test("ids are grouped without filling the cap or the cache", () => {
  const { grouper: g } = grouper({ maxEndpointsPerService: 10, cacheEntriesPerService: 16 });
  for (let i = 0; i < 100_000; i++) {
    assert.equal(g.nameEndpoint("shop.default", "GET", `/orders/${i}/items/f${i.toString(16).padStart(7, "0")}`, "http"), "GET:/orders/{id}/items/{hex}");
  }
  assert.deepEqual(g.stats(), { services: 1, knownEndpoints: 1, cachedPaths: 0, groupedShapes: 1 });
  assert.deepEqual(g.servicesAtCap(), []);
});

void test("names of id paths remembered by shape equal fresh grouping, whatever the mix of shapes, methods and rules", () => {
  const { grouper: memoized } = grouper({ maxEndpointsPerService: 10_000, rules: [{ pattern: "/ruled/{x}", service: "ruled.default" }] });
  const shapes = ["/a/{n}", "/a/{n}/b", "/{n}/a", "/a/{n}/{n}", "/a/b{n}", "/a/{n}x", "/{n}", "/a//{n}", "/a/{id}/{n}", "/ruled/{n}"];
  let checked = 0;
  for (let i = 0; i < 5_000; i++) {
    const shape = shapes[i % shapes.length] as string;
    const path = shape.replaceAll("{n}", String(1000 + ((i * 7919) % 100_000)));
    const method = i % 3 === 0 ? "POST" : "GET";
    const service = shape === "/ruled/{n}" ? "ruled.default" : "plain.default";
    // A fresh grouper per call cannot have remembered anything: it is the reference.
    const { grouper: fresh } = grouper({ rules: [{ pattern: "/ruled/{x}", service: "ruled.default" }] });
    assert.equal(memoized.nameEndpoint(service, method, path, "http"), fresh.nameEndpoint(service, method, path, "http"), `${method} ${path}`);
    checked++;
  }
  assert.equal(checked, 5_000);
  assert.ok(memoized.stats().groupedShapes >= 9, `shapes remembered: ${memoized.stats().groupedShapes}`);
});

void test("the same name comes back as the same string, so later map lookups reuse its hash", () => {
  const { grouper: g } = grouper();
  const first = g.nameEndpoint("s", "GET", "/a/1", "http");
  const second = g.nameEndpoint("s", "GET", "/a/2", "http");
  assert.equal(first, second);
  assert.ok(Object.is(first, second));
});

void test("the cap resets each window, and the number of tracked services is bounded", () => {
  let nowMs = 0;
  const { grouper: g } = grouper({ maxEndpointsPerService: 2, windowMs: 60_000, maxServices: 3, clock: () => nowMs });
  assert.equal(g.nameEndpoint("a", "GET", "/one", "http"), "GET:/one");
  assert.equal(g.nameEndpoint("a", "GET", "/two", "http"), "GET:/two");
  assert.equal(g.nameEndpoint("a", "GET", "/three", "http"), OVERFLOW_ENDPOINT);
  nowMs = 60_000;
  assert.equal(g.nameEndpoint("a", "GET", "/three", "http"), "GET:/three");
  assert.deepEqual(g.servicesAtCap(), []);
  for (const service of ["b", "c", "d", "e"]) g.nameEndpoint(service, "GET", "/x", "http");
  assert.equal(g.stats().services, 3);
});

void test("a service in use keeps its endpoints while new services come and go beyond the bound", () => {
  const { grouper: g } = grouper({ maxEndpointsPerService: 2, maxServices: 3 });
  g.nameEndpoint("busy", "GET", "/one", "http");
  g.nameEndpoint("busy", "GET", "/two", "http");
  for (let index = 0; index < 1000; index++) {
    g.nameEndpoint(`passing-${index}`, "GET", "/x", "http");
    // Still at its cap: a forgotten service would admit this path as a new endpoint.
    assert.equal(g.nameEndpoint("busy", "GET", `/new-${String.fromCharCode(97 + (index % 26))}`, "http"), OVERFLOW_ENDPOINT, `after ${index + 1} new services`);
  }
  assert.equal(g.stats().services, 3);
  assert.deepEqual(
    g.servicesAtCap().map((atCap) => atCap.service),
    ["busy"],
  );
});

void test("bad options fail at construction", () => {
  assert.throws(() => grouper({ maxEndpointsPerService: 0 }), /maxEndpointsPerService/);
  assert.throws(() => grouper({ rules: [{ pattern: "no-slash" }] }), /must start with/);
});
