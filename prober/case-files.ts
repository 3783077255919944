import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { LineCounter, parseAllDocuments, isMap, isSeq, type Node } from "yaml";
import { InvalidProbeCaseError, parseProbeCase, type CaseLimits, type KindLookup, type ProbeCase } from "./case.ts";

/**
 * Loads probe cases from YAML files at start. A file holds one case, several YAML documents (`---`), or
 * `cases: [...]`; a directory contributes its *.yaml / *.yml files in name order. Every error names the
 * file and line of the case it is about.
 */
export async function loadCaseFiles(paths: readonly string[], kinds: KindLookup, limits: CaseLimits, maxCases: number): Promise<ProbeCase[]> {
  const cases: ProbeCase[] = [];
  const origins = new Map<string, string>();
  for (const file of await expandPaths(paths)) {
    for (const loaded of parseCaseFile(await readFile(file, "utf8"), file, kinds, limits)) {
      const earlier = origins.get(loaded.probe.name);
      if (earlier) throw new InvalidProbeCaseError(`${loaded.where}: case "${loaded.probe.name}" is already defined at ${earlier}`);
      origins.set(loaded.probe.name, loaded.where);
      cases.push(loaded.probe);
      if (cases.length > maxCases) throw new InvalidProbeCaseError(`${loaded.where}: more than ${maxCases} probe cases (prober.maxCases)`);
    }
  }
  return cases;
}

async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new InvalidProbeCaseError(`probe case path ${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!info.isDirectory()) {
      files.push(path);
      continue;
    }
    const names = (await readdir(path)).filter((name) => /\.ya?ml$/.test(name)).sort();
    files.push(...names.map((name) => join(path, name)));
  }
  return files;
}

/** Parses one file's text; exported for tests and for the API's YAML bodies. */
export function parseCaseFile(text: string, file: string, kinds: KindLookup, limits: CaseLimits): Array<{ probe: ProbeCase; where: string }> {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter });
  if (!Array.isArray(documents)) return [];
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lineCounter.linePos(node.range[0]).line : 1);
  const results: Array<{ probe: ProbeCase; where: string }> = [];
  for (const document of documents) {
    const firstError = document.errors[0];
    if (firstError) {
      const line = firstError.linePos?.[0]?.line ?? 1;
      throw new InvalidProbeCaseError(`${file}:${line}: not valid YAML: ${firstError.message.split("\n")[0] ?? ""}`);
    }
    const root = document.contents;
    if (root === null) continue;
    const casesNode = isMap(root) ? root.get("cases", true) : undefined;
    const caseNodes: Node[] = isSeq(casesNode) ? (casesNode.items as Node[]) : isSeq(root) ? (root.items) : [root];
    for (const node of caseNodes) {
      const where = `${file}:${lineOf(node)}`;
      const raw: unknown = (node as { toJSON(): unknown }).toJSON();
      results.push({ probe: parseProbeCase(raw, kinds, where, limits), where });
    }
  }
  return results;
}
