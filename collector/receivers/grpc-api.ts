import { createRequire } from "node:module";
import type * as GrpcApi from "@grpc/grpc-js";

/**
 * @grpc/grpc-js for the receivers, loaded as the CommonJS package it is: imported as an ES module, Node first
 * scans its files for their named exports (~0.03 CPU-s of `meshsight start`, see core/storage/duckdb/duckdb-api.ts).
 * Types still come from `import type`.
 */
export const grpcApi = createRequire(import.meta.url)("@grpc/grpc-js") as typeof GrpcApi;
