import { constants } from "node:fs";
import { open, realpath } from "node:fs/promises";
import { isAbsolute, relative, resolve, sep } from "node:path";

/** A file a spec names that cannot be used; the same message whether it is missing, outside the directory or not a file. */
export class ProbeFileError extends Error {
  override readonly name = "ProbeFileError";
}

/** CA bundles are a few KiB; a cap keeps a huge or endless file (a FIFO, /dev/zero) out of memory. */
const DEFAULT_MAX_BYTES = 1024 * 1024;

/**
 * The files probe specs may name (a tls case's `caFile`), confined to one directory (`prober.filesDir`) as
 * script cases are to theirs. Case definitions come from the API too, so a path is a request to read a
 * file on the server: it must resolve, symbolic links followed, to a regular file inside the directory.
 * Every refusal reads the same ("no such file in the probe files directory"), so a caller cannot learn
 * whether /etc/shadow exists from the message.
 */
export class ProbeFiles {
  private readonly directory: string | undefined;

  constructor(
    directory: string | undefined,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {
    this.directory = directory === undefined ? undefined : resolve(directory);
  }

  /** The text of `path` (relative to the directory, or absolute inside it); `field` names the spec field in errors. */
  async readText(field: string, path: string): Promise<string> {
    if (this.directory === undefined) throw new ProbeFileError(`${field}: reading files needs prober.filesDir, the directory probe specs may read from`);
    const refused = new ProbeFileError(`${field}: no such file in the probe files directory: ${JSON.stringify(path)}`);
    let real: string;
    try {
      const root = await realpath(this.directory);
      real = await realpath(resolve(this.directory, path));
      if (!isInside(root, real)) throw refused;
    } catch {
      throw refused;
    }
    // O_NONBLOCK: opening a FIFO someone placed in the directory must not hang the probe.
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => {
      throw refused;
    });
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw refused;
      if (stats.size > this.maxBytes) throw new ProbeFileError(`${field}: ${JSON.stringify(path)} is larger than ${this.maxBytes} bytes`);
      const buffer = Buffer.alloc(Math.min(stats.size, this.maxBytes));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      return buffer.subarray(0, bytesRead).toString("utf8");
    } finally {
      await handle.close();
    }
  }
}

function isInside(root: string, path: string): boolean {
  const inside = relative(root, path);
  return inside !== "" && inside !== ".." && !inside.startsWith(`..${sep}`) && !isAbsolute(inside);
}
