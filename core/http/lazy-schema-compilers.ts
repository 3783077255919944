import { createRequire } from "node:module";
import type { FastifyServerOptions } from "fastify";

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions["schemaController"]>["compilersFactory"]>;
type ValidatorFactory = NonNullable<CompilersFactory["buildValidator"]>;
type SerializerFactory = NonNullable<CompilersFactory["buildSerializer"]>;

// Resolved from Fastify's own place: its compilers are its dependencies, not meshsight's.
const requireFromFastify = createRequire(createRequire(import.meta.url).resolve("fastify"));

/** A factory that loads the real one (a CommonJS package exporting a builder of it) on its first call. */
function loadedOnFirstCall<Factory extends (...args: never[]) => unknown>(packageName: string): Factory {
  let factory: Factory | undefined;
  const call = (...args: never[]): unknown => (factory ??= (requireFromFastify(packageName) as () => Factory)())(...args);
  return call as Factory;
}

/**
 * Fastify's default JSON-schema compilers, loaded the first time a route declares a schema rather than when a
 * server is built. Fastify requires them in its constructor, and they bring three copies of Ajv and
 * fast-json-stringify (~0.1-0.15 CPU-s of `meshsight start`, which builds three servers); meshsight's routes
 * validate with zod and declare no JSON schemas, so the default start never needs them. Fastify calls a
 * factory only when it sets up a route with a schema, so such a route behaves as with the defaults.
 */
export const LAZY_SCHEMA_COMPILERS: CompilersFactory = {
  buildValidator: loadedOnFirstCall<ValidatorFactory>("@fastify/ajv-compiler"),
  buildSerializer: loadedOnFirstCall<SerializerFactory>("@fastify/fast-json-stringify-compiler"),
};
