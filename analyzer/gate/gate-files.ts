import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { isMap, isSeq, LineCounter, parseAllDocuments, type Node } from "yaml";
import { InvalidGateError, parseGate, type GateDefinition } from "./gate-definition.ts";

/**
 * Gates from YAML at start. A file holds `gates: [...]`, one gate, or several documents (`---`); a
 * directory contributes its *.yaml / *.yml files in name order. Errors name the file and line.
 */
export async function loadGateFiles(paths: readonly string[], maxGates: number): Promise<GateDefinition[]> {
  const gates: GateDefinition[] = [];
  const origins = new Map<string, string>();
  for (const file of await expandPaths(paths)) {
    for (const { gate, where } of parseGateFile(await readFile(file, "utf8"), file)) {
      const earlier = origins.get(gate.name);
      if (earlier) throw new InvalidGateError(`${where}: gate "${gate.name}" is already defined at ${earlier}`);
      origins.set(gate.name, where);
      gates.push(gate);
      if (gates.length > maxGates) throw new InvalidGateError(`${where}: more than ${maxGates} gates (gates.maxGates)`);
    }
  }
  return gates;
}

async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => {
      throw new InvalidGateError(`gate file ${path}: ${error instanceof Error ? error.message : String(error)}`);
    });
    if (!info.isDirectory()) files.push(path);
    else files.push(...(await readdir(path)).filter((name) => /\.ya?ml$/.test(name)).sort().map((name) => join(path, name)));
  }
  return files;
}

export function parseGateFile(text: string, file: string): Array<{ gate: GateDefinition; where: string }> {
  const lineCounter = new LineCounter();
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lineCounter.linePos(node.range[0]).line : 1);
  const loaded: Array<{ gate: GateDefinition; where: string }> = [];
  for (const document of parseAllDocuments(text, { lineCounter })) {
    const firstError = document.errors[0];
    if (firstError) throw new InvalidGateError(`${file}:${firstError.linePos?.[0]?.line ?? 1}: not valid YAML: ${firstError.message.split("\n")[0] ?? ""}`);
    const root = document.contents;
    if (root === null) continue;
    const list = isMap(root) ? root.get("gates", true) : undefined;
    const nodes: unknown[] = isSeq(list) ? list.items : list === undefined ? [root] : [];
    if (list !== undefined && !isSeq(list)) throw new InvalidGateError(`${file}:${lineOf(root)}: gates: expected a list of gates`);
    for (const node of nodes) {
      const where = `${file}:${lineOf(node as Node)}`;
      const raw: unknown = (node as Node).toJSON();
      loaded.push({ gate: parseGate(raw, where), where });
    }
  }
  return loaded;
}
