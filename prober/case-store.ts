import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { ProbeCaseDefinition } from "./case.ts";

/**
 * The `probe_cases` persistence for cases defined through the API: one JSON file (a list of
 * definitions) under the data dir, rewritten whole through a temp file + rename so a crash mid-write
 * leaves the previous version. Good enough for hundreds of cases on one process; several processes
 * sharing cases need a storage table instead (see docs/probes.md).
 */
export class JsonCaseStore {
  /** Serializes writes: two PUTs at once must not interleave their renames. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  async load(): Promise<ProbeCaseDefinition[]> {
    let text: string;
    try {
      text = await readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error(`${this.file}: expected a JSON list of probe case definitions`);
    return parsed as ProbeCaseDefinition[];
  }

  save(definitions: readonly ProbeCaseDefinition[]): Promise<void> {
    const text = `${JSON.stringify(definitions, null, 2)}\n`;
    const next = this.writing.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      const temp = `${this.file}.${process.pid}.tmp`;
      await writeFile(temp, text);
      await rename(temp, this.file);
    });
    // A failed write must not poison the next one; the caller still sees this one's error.
    this.writing = next.catch(() => undefined);
    return next;
  }
}
