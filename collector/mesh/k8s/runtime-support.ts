import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * Whether this Node can load `@kubernetes/client-node`, checked WITHOUT importing it.
 *
 * Version 2.x of the client uses undici 8, which declares `engines.node >= 22.19` and fails while being
 * loaded on older Node (missing `zlib.createZstdDecompress`, `markAsUncloneable`...). Importing it there
 * does not just reject: Node 20's ESM loader also leaves a stray unhandled rejection behind, which takes
 * the process down. So the requirement is read from the installed packages' `engines` fields (the client's
 * own and those of its HTTP dependency) and compared with the running version before any import.
 *
 * Returns null when the runtime is fine (or nothing states a requirement), else a sentence saying why not.
 */
export function kubernetesClientRuntimeProblem(nodeVersion: string = process.versions.node): string | null {
  const require = createRequire(import.meta.url);
  let clientManifestPath: string;
  try {
    clientManifestPath = require.resolve("@kubernetes/client-node/package.json");
  } catch {
    return "@kubernetes/client-node is not installed";
  }
  const manifests = [{ name: "@kubernetes/client-node", path: clientManifestPath }];
  const clientManifest = readManifest(clientManifestPath);
  if (clientManifest?.dependencies?.undici) {
    try {
      manifests.push({ name: "undici", path: createRequire(clientManifestPath).resolve("undici/package.json") });
    } catch {
      return "undici, a dependency of @kubernetes/client-node, is not installed";
    }
  }
  for (const { name, path } of manifests) {
    const required = readManifest(path)?.engines?.node;
    if (required && !satisfiesMinimum(nodeVersion, required)) {
      return `${name} requires Node ${required}, this is Node ${nodeVersion}`;
    }
  }
  return null;
}

interface Manifest {
  dependencies?: Record<string, string>;
  engines?: { node?: string };
}

function readManifest(path: string): Manifest | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Manifest;
  } catch {
    return null;
  }
}

/**
 * Handles the `>=X.Y.Z` form engines fields use in practice (also `>=X` and `^X.Y`); any other range is
 * not understood and not enforced, since refusing Kubernetes on a misread would be worse than trying.
 */
export function satisfiesMinimum(version: string, range: string): boolean {
  const match = /^\s*(?:>=|\^)\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range);
  if (!match) return true;
  const wanted = [Number(match[1]), Number(match[2] ?? 0), Number(match[3] ?? 0)];
  const actual = version.replace(/^v/, "").split(".").map((part) => Number.parseInt(part, 10) || 0);
  for (let index = 0; index < 3; index++) {
    const have = actual[index] ?? 0;
    const need = wanted[index] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}
