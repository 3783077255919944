import { readFile } from "node:fs/promises";
import { writeTextAtomically } from "../../../core/files/text-file.ts";

/** Where reading of one file stopped: the file is recognised by device and inode, not only by path. */
export interface SavedOffset {
  dev: number;
  ino: number;
  /** Byte offset of the first line not yet handed to ingest (always at a line start). */
  offset: number;
}

interface StateFile {
  version: 1;
  files: Record<string, SavedOffset>;
}

function isSavedOffset(value: unknown): value is SavedOffset {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.dev === "number" && typeof candidate.ino === "number" && typeof candidate.offset === "number" && candidate.offset >= 0;
}

/**
 * Reads the tailer's offsets. A missing file means a first start; an unreadable one is reported as
 * `isCorrupt` and treated as empty, so a damaged state file costs re-reading, never a crash loop.
 */
export async function loadTailState(path: string): Promise<{ offsets: Map<string, SavedOffset>; isCorrupt: boolean }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { offsets: new Map(), isCorrupt: false };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<StateFile>;
    const offsets = new Map<string, SavedOffset>();
    for (const [file, value] of Object.entries(parsed.files ?? {})) if (isSavedOffset(value)) offsets.set(file, value);
    return { offsets, isCorrupt: false };
  } catch {
    return { offsets: new Map(), isCorrupt: true };
  }
}

/** Writes the offsets atomically (temp file + rename), so a crash mid-write leaves the previous state intact. */
export async function saveTailState(path: string, offsets: ReadonlyMap<string, SavedOffset>): Promise<void> {
  const state: StateFile = { version: 1, files: Object.fromEntries(offsets) };
  await writeTextAtomically(path, JSON.stringify(state));
}
