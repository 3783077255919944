import assert from "node:assert/strict";
import { test } from "node:test";
import { groupIdSegments } from "../../../collector/endpoints/auto-grouping.ts";
import { GroupedShapeMemo } from "../../../collector/endpoints/grouped-shape-memo.ts";

void test("a remembered shape names every path that groups to it, and only those", () => {
  const memo = new GroupedShapeMemo(10);
  memo.remember("/details/{id}", "GET:/details/{id}");
  assert.equal(memo.nameOf("/details/42"), "GET:/details/{id}");
  assert.equal(memo.nameOf("/details/987654"), "GET:/details/{id}");
  // A literal placeholder text groups to the same form, so it is the same endpoint.
  assert.equal(memo.nameOf("/details/{id}"), "GET:/details/{id}");
  for (const other of ["/details/42/x", "/detail/42", "/details/abc", "/details/", "/details/0123456789abcdef", "details/42", "/details/42/"]) {
    assert.equal(memo.nameOf(other), undefined, other);
  }
});

void test("lookups agree with groupIdSegments on ids of every kind", () => {
  const memo = new GroupedShapeMemo(100);
  const paths = [
    "/users/42/orders/7f3c9a1b2c",
    "/items/123e4567-e89b-12d3-a456-426614174000",
    "/tokens/AbCdEf0123456789xyZ",
    "/mail/jane@example.com/inbox",
    "/plain/words/only",
  ];
  for (const path of paths) memo.remember(groupIdSegments(path), `name of ${groupIdSegments(path)}`);
  const variants = [
    "/users/7/orders/deadbeef01",
    "/items/00000000-0000-4000-8000-000000000000",
    "/tokens/ZyXwVu9876543210abC",
    "/mail/joe@example.org/inbox",
    "/plain/words/only",
  ];
  for (const path of variants) assert.equal(memo.nameOf(path), `name of ${groupIdSegments(path)}`, path);
});

void test("it never holds more than its bound, and paths with too many segments are not looked up", () => {
  const memo = new GroupedShapeMemo(3);
  for (let i = 0; i < 100; i++) memo.remember(`/s${"x".repeat(i)}/{id}`, `n${i}`);
  assert.equal(memo.size, 3);
  const deep = `/${Array.from({ length: 40 }, () => "a").join("/")}/{id}`;
  const roomy = new GroupedShapeMemo(3);
  roomy.remember(deep, "deep");
  assert.equal(roomy.nameOf(deep.replace("{id}", "42")), undefined);
});

void test("after a hit, every path gets the name of its own grouped form, whichever shape was found last", () => {
  const memo = new GroupedShapeMemo(100);
  const shapes = ["/details/{id}", "/details/{id}/reviews", "/details/{hex}", "/reviews/{id}", "/{id}", "/details"];
  for (const shape of shapes) memo.remember(shape, `GET:${shape}`);
  const paths = ["/details/1", "/details/2", "/details/2/reviews", "/details/deadbeef01", "/reviews/3", "/4", "/details", "/details/5", "/details/6/ratings", "/details/7/", "/reviews/x"];
  // Twice over, so each path follows a hit on a different shape the second time.
  for (const path of [...paths, ...paths.reverse()]) {
    const grouped = groupIdSegments(path);
    assert.equal(memo.nameOf(path), shapes.includes(grouped) ? `GET:${grouped}` : undefined, path);
  }
  memo.clear();
  assert.equal(memo.nameOf("/details/1"), undefined, "nothing is found once cleared");
});
