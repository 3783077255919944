import assert from "node:assert/strict";
import { test } from "node:test";
import { InvalidPathPatternError, PathPatternTrie, pathSegments } from "../../../collector/endpoints/path-pattern-trie.ts";

const match = (trie: PathPatternTrie, path: string): string | undefined => trie.match(pathSegments(path));

void test("named parameters match exactly one non-empty segment", () => {
  const trie = new PathPatternTrie(["/api/products/{id}", "/api/products/{id}/reviews"]);
  assert.equal(match(trie, "/api/products/abc"), "/api/products/{id}");
  assert.equal(match(trie, "/api/products/abc/reviews"), "/api/products/{id}/reviews");
  assert.equal(match(trie, "/api/products/"), undefined);
  assert.equal(match(trie, "/api/products"), undefined);
  assert.equal(match(trie, "/api/products/a/b"), undefined);
});

void test("{*} matches the rest of the path, zero or more segments", () => {
  const trie = new PathPatternTrie(["/users/{uid}/orders/{*}"]);
  assert.equal(match(trie, "/users/7/orders"), "/users/{uid}/orders/{*}");
  assert.equal(match(trie, "/users/7/orders/1/items/2"), "/users/{uid}/orders/{*}");
  assert.equal(match(trie, "/users/7/carts/1"), undefined);
});

void test("the first declared matching pattern wins, literal or not", () => {
  const paramFirst = new PathPatternTrie(["/api/{resource}/list", "/api/products/list", "/api/{*}"]);
  assert.equal(match(paramFirst, "/api/products/list"), "/api/{resource}/list");
  assert.equal(match(paramFirst, "/api/products/other"), "/api/{*}");
  const literalFirst = new PathPatternTrie(["/api/products/list", "/api/{resource}/list"]);
  assert.equal(match(literalFirst, "/api/products/list"), "/api/products/list");
  assert.equal(match(literalFirst, "/api/orders/list"), "/api/{resource}/list");
});

void test("bad patterns fail with the pattern named", () => {
  assert.throws(() => new PathPatternTrie(["api/x"]), InvalidPathPatternError);
  assert.throws(() => new PathPatternTrie(["/a/{*}/b"]), /only allowed as the last segment/);
  assert.throws(() => new PathPatternTrie(["/a/x{id}"]), /"\/a\/x\{id\}"/);
  assert.throws(() => new PathPatternTrie(["/a?b=1"]), /query string/);
});
