import { readdir, stat } from "node:fs/promises";
import { isAbsolute, join, resolve, sep } from "node:path";

const WILDCARD = /[*?[]/;

/** `*` and `?` within one path segment, `[abc]` classes; everything else literal. */
function segmentMatcher(segment: string): RegExp {
  let source = "";
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i] as string;
    if (char === "*") source += "[^/]*";
    else if (char === "?") source += "[^/]";
    else if (char === "[") {
      const close = segment.indexOf("]", i + 1);
      if (close < 0) source += "\\[";
      else {
        source += `[${segment.slice(i + 1, close).replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else source += char.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * The files a list of paths and glob patterns names right now (Node 20 has no fs.glob). Wildcards work per
 * segment (`/var/log/pods/*\/istio-proxy/*.log`); `**` is not supported. At most `maxFiles` results, sorted,
 * so a runaway pattern cannot make the tailer open unbounded files.
 */
export async function expandPathPatterns(patterns: readonly string[], maxFiles: number): Promise<string[]> {
  const found = new Set<string>();
  for (const pattern of patterns) {
    const absolute = isAbsolute(pattern) ? pattern : resolve(pattern);
    if (!WILDCARD.test(absolute)) {
      if (await isFile(absolute)) found.add(absolute);
      continue;
    }
    let candidates: string[] = [sep];
    for (const segment of absolute.split(sep).filter((part) => part !== "")) {
      const next: string[] = [];
      for (const directory of candidates) {
        if (!WILDCARD.test(segment)) {
          next.push(join(directory, segment));
          continue;
        }
        const matcher = segmentMatcher(segment);
        let names: string[];
        try {
          names = await readdir(directory);
        } catch {
          continue; // not a directory, gone, or unreadable: nothing matches below it
        }
        for (const name of names.sort()) if (matcher.test(name)) next.push(join(directory, name));
      }
      candidates = next.slice(0, maxFiles * 4);
    }
    for (const candidate of candidates) if (await isFile(candidate)) found.add(candidate);
  }
  return [...found].sort().slice(0, maxFiles);
}
