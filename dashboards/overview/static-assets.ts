import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { extname, join } from "node:path";

/** One file the overview page serves, read once at startup: the page's files never change while meshsight runs. */
export interface StaticAsset {
  body: Buffer;
  contentType: string;
  /** Strong validator: a hash of the bytes, so a browser revalidates with one cheap 304. */
  etag: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** The ui folder holds a handful of files; anything near this many means a wrong folder, not a page. */
const MAX_ASSETS = 64;

export function contentTypeOf(fileName: string): string | undefined {
  return CONTENT_TYPES[extname(fileName)];
}

export function assetFrom(body: Buffer | string, contentType: string): StaticAsset {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  const etag = `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 27)}"`;
  return { body: bytes, contentType, etag };
}

/**
 * Reads the servable files of one folder (no subfolders, only known types) into a map by file name.
 * Serving from this map, never from a path built out of the URL, is what rules out path traversal.
 */
export async function loadAssetFolder(folder: string): Promise<Map<string, StaticAsset>> {
  const assets = new Map<string, StaticAsset>();
  const entries = await readdir(folder, { withFileTypes: true });
  for (const entry of entries) {
    const contentType = contentTypeOf(entry.name);
    if (!entry.isFile() || contentType === undefined) continue;
    if (assets.size >= MAX_ASSETS) throw new Error(`${folder} holds more than ${MAX_ASSETS} servable files`);
    assets.set(entry.name, assetFrom(await readFile(join(folder, entry.name)), contentType));
  }
  return assets;
}
