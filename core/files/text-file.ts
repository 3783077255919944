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
 * file, and the last call's text is what ends up on disk. Writes asked for while one is on its way join the
 * next one (each text is the whole file, so only the newest matters): a burst of state changes costs two
 * rewrites, not one per change. A failed write does not stop the next one; its callers still get the error.
 */
export class SerialFileWriter {
  private writing: Promise<void> = Promise.resolve();
  /** The write waiting for the one on its way: later calls replace its text and share its outcome. */
  private next: { text: () => string; done: Promise<void> } | undefined;
  private rewrites = 0;

  constructor(readonly path: string) {}

  /** Whole-file rewrites done or begun, for tests and benchmarks. */
  get rewriteCount(): number {
    return this.rewrites;
  }

  /** `text` is a function so a queued write takes the state as it is when its turn comes. */
  write(text: string | (() => string)): Promise<void> {
    const render = typeof text === "string" ? () => text : text;
    if (this.next !== undefined) {
      this.next.text = render;
      return this.next.done;
    }
    const next: { text: () => string; done: Promise<void> } = { text: render, done: Promise.resolve() };
    next.done = this.writing.then(() => {
      this.next = undefined;
      this.rewrites += 1;
      return writeTextAtomically(this.path, next.text());
    });
    this.next = next;
    this.writing = next.done.catch(() => undefined);
    return next.done;
  }
}
