import { createRequire } from "node:module";
import type * as DuckDBApi from "@duckdb/node-api";

/**
 * @duckdb/node-api, loaded as the CommonJS package it is. Imported as an ES module, Node first scans its
 * files for their named exports, following a chain of re-exporting index files (~0.15 CPU-s, a sixth of
 * `meshsight start`); required, the package is only run. Every module of this adapter takes its values
 * from here (types still come from `import type`).
 */
export const duckdbApi = createRequire(import.meta.url)("@duckdb/node-api") as typeof DuckDBApi;
