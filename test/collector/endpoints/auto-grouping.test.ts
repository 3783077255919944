import assert from "node:assert/strict";
import { test } from "node:test";
import { groupIdSegments, placeholderFor } from "../../../collector/endpoints/auto-grouping.ts";

void test("id-like segments get the placeholder of their kind", () => {
  const cases: Array<[string, string | null]> = [
    ["42", "{id}"],
    ["0", "{id}"],
    ["9007199254740993123", "{id}"],
    ["3fa85f64-5717-4562-b3fc-2c963f66afa6", "{uuid}"],
    ["3FA85F64-5717-4562-B3FC-2C963F66AFA6", "{uuid}"],
    ["5f3c9a1b", "{hex}"],
    ["507f1f77bcf86cd799439011", "{hex}"],
    ["deadbeefcafebabe", "{hex}"],
    ["01ARZ3NDEKTSV4RRFFQ69G5FAV", "{token}"],
    ["dGhpcyBpcyBhIHRva2VuMTIz", "{token}"],
    ["V1StGXR8_Z5jdHi6B-myT", "{token}"],
    ["jane.doe@example.com", "{email}"],
    // Names stay names.
    ["products", null],
    ["v2", null],
    ["cafe", null],
    ["deadbeef", null],
    ["facade", null],
    ["product-list-v2-2024", null],
    ["bootstrap.min.js", null],
    ["jquery-3.5.1.min.js", null],
    ["", null],
    ["not@email", null],
    ["abcdefghijklmnopqrstuvwxyz", null],
  ];
  for (const [segment, expected] of cases) assert.equal(placeholderFor(segment), expected, `segment "${segment}"`);
});

void test("paths keep their names and lose their ids", () => {
  const cases: Array<[string, string]> = [
    ["/api/products/42", "/api/products/{id}"],
    ["/users/3fa85f64-5717-4562-b3fc-2c963f66afa6/orders/17", "/users/{uuid}/orders/{id}"],
    ["/accounts/jane@example.org/settings", "/accounts/{email}/settings"],
    ["/static/app.js", "/static/app.js"],
    ["/", "/"],
    ["/a//b/", "/a//b/"],
  ];
  for (const [path, expected] of cases) assert.equal(groupIdSegments(path), expected, path);
});

void test("an unchanged path is returned as the very same string", () => {
  const path = "/api/catalog/items";
  assert.equal(groupIdSegments(path), path);
});
