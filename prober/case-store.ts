import { readTextIfExists, SerialFileWriter } from "../core/files/text-file.ts";
import type { ProbeCaseDefinition } from "./case.ts";

/**
 * The `probe_cases` persistence for cases defined through the API: one JSON file (a list of
 * definitions) under the data dir, rewritten whole through a temp file + rename so a crash mid-write
 * leaves the previous version. Good enough for hundreds of cases on one process; several processes
 * sharing cases need a storage table instead (see docs/probes.md).
 */
export class JsonCaseStore {
  /** Two PUTs at once must not interleave their writes. */
  private readonly writer: SerialFileWriter;

  constructor(private readonly file: string) {
    this.writer = new SerialFileWriter(file);
  }

  async load(): Promise<ProbeCaseDefinition[]> {
    const text = await readTextIfExists(this.file);
    if (text === undefined) return [];
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error(`${this.file}: expected a JSON list of probe case definitions`);
    return parsed as ProbeCaseDefinition[];
  }

  save(definitions: readonly ProbeCaseDefinition[]): Promise<void> {
    return this.writer.write(`${JSON.stringify(definitions, null, 2)}\n`);
  }
}
