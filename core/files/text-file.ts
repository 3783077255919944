import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** The file's text, or undefined when it does not exist (other errors throw). */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Replaces the file atomically (temp file, then rename): a crash mid-write leaves the old file, never half of it. */
export async function writeTextAtomically(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, path);
}

/**
 * Atomic writes of one file, one at a time in call order: two writes never interleave on the shared temp
 * file, and the last call's text is what ends up on disk. A failed write does not stop the next one; its
 * own caller still gets the error.
 */
export class SerialFileWriter {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /** `text` is a function so a queued write takes the state as it is when its turn comes. */
  write(text: string | (() => string)): Promise<void> {
    const next = this.writing.then(() => writeTextAtomically(this.path, typeof text === "string" ? text : text()));
    this.writing = next.catch(() => undefined);
    return next;
  }
}
