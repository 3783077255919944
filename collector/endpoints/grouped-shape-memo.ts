import { placeholderForRange } from "./auto-grouping.ts";

/** Paths with more segments than this are not memoized (they are rare, and the scratch space is fixed). */
const MAX_SEGMENTS = 32;
/** The empty-hash seed and the prime of 32-bit FNV-1a. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const SLASH = 47;
const OPEN_BRACE = 123;

interface RememberedShape {
  /** The grouped path (`/details/{id}`) the name was made from: what a lookup is verified against. */
  readonly grouped: string;
  readonly name: string;
}

/**
 * Recognises the endpoint name of a path with ids without building its grouped form. A path with ids
 * (`/details/4711`) is rarely seen twice, so caching raw paths does not help, yet grouping it again
 * built two new strings (`/details/{id}`, `GET:/details/{id}`) and hashed them on every call, about a fifth
 * of the access-log path's CPU (bench/README.md). Here the path is classified segment by segment once,
 * a hash of the grouped form is computed on the fly, and a remembered shape with that hash is verified
 * character by character against the path, so a hit allocates nothing and a hash collision only costs
 * the ordinary grouping.
 *
 * Only admitted names are remembered, at most `maxEntries` (the service's endpoint cap), so memory is
 * bounded by the cap however many raw URLs arrive.
 */
export class GroupedShapeMemo {
  private readonly byHash = new Map<number, RememberedShape>();
  /** Scratch for one lookup: each segment's bounds and placeholder (null when the segment is kept). */
  private readonly segmentStarts = new Int32Array(MAX_SEGMENTS);
  private readonly segmentEnds = new Int32Array(MAX_SEGMENTS);
  private readonly placeholders: (string | null)[] = new Array<string | null>(MAX_SEGMENTS).fill(null);
  /**
   * The shape found last. Calls of one method of one service often repeat an endpoint (`GET /details/{id}`
   * for one product after another): checked first, in one pass over the path that classifies and compares
   * segment by segment, a repeat skips the hash pass, the map and the scratch.
   */
  private lastFound: RememberedShape | null = null;

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.byHash.size;
  }

  /** The name remembered for the grouped form of `path` (a path without query), or undefined. */
  nameOf(path: string): string | undefined {
    if (this.byHash.size === 0) return undefined;
    const last = this.lastFound;
    if (last !== null && hasGroupedForm(path, last.grouped)) return last.name;
    const segments = this.classify(path);
    if (segments < 0) return undefined;
    const remembered = this.byHash.get(this.scratchHash(path, segments));
    if (remembered === undefined || !this.scratchEquals(path, segments, remembered.grouped)) return undefined;
    this.lastFound = remembered;
    return remembered.name;
  }

  /** Remembers `name` for paths whose grouped form is `grouped`; the first shape of a hash wins. */
  remember(grouped: string, name: string): void {
    if (this.byHash.size >= this.maxEntries) return;
    const hash = hashText(grouped);
    if (!this.byHash.has(hash)) this.byHash.set(hash, { grouped, name });
  }

  clear(): void {
    this.byHash.clear();
    this.lastFound = null;
  }

  /** Fills the scratch with `path`'s segments; returns how many, or -1 when there are too many. */
  private classify(path: string): number {
    let count = 0;
    let start = 0;
    const length = path.length;
    while (start <= length) {
      if (count === MAX_SEGMENTS) return -1;
      let end = path.indexOf("/", start);
      if (end === -1) end = length;
      this.segmentStarts[count] = start;
      this.segmentEnds[count] = end;
      this.placeholders[count] = placeholderForRange(path, start, end);
      count++;
      start = end + 1;
    }
    return count;
  }

  /** hashText of the grouped form the scratch describes, without building it. */
  private scratchHash(path: string, segments: number): number {
    let hash = FNV_OFFSET;
    for (let index = 0; index < segments; index++) {
      if (index > 0) hash = Math.imul(hash ^ SLASH, FNV_PRIME);
      const placeholder = this.placeholders[index] ?? null;
      const text = placeholder ?? path;
      const from = placeholder === null ? (this.segmentStarts[index] as number) : 0;
      const to = placeholder === null ? (this.segmentEnds[index] as number) : placeholder.length;
      for (let i = from; i < to; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
    }
    return hash >>> 0;
  }

  /** Whether the grouped form the scratch describes is exactly `grouped`. */
  private scratchEquals(path: string, segments: number, grouped: string): boolean {
    let position = 0;
    for (let index = 0; index < segments; index++) {
      if (index > 0) {
        if (grouped.charCodeAt(position) !== SLASH) return false;
        position++;
      }
      const placeholder = this.placeholders[index] ?? null;
      if (placeholder !== null) {
        if (!grouped.startsWith(placeholder, position)) return false;
        position += placeholder.length;
        continue;
      }
      const start = this.segmentStarts[index] as number;
      const length = (this.segmentEnds[index] as number) - start;
      if (!equalRanges(path, start, start + length, grouped, position, position + length)) return false;
      position += length;
    }
    return position === grouped.length;
  }
}

/**
 * Whether `grouped` is `path`'s grouped form, segment by segment. A path segment equal to the grouped one
 * is its own grouped form (a kept segment, or a placeholder's text itself, which is kept as such), so it is
 * compared before it is classified: only a segment facing a placeholder is classified at all.
 */
function hasGroupedForm(path: string, grouped: string): boolean {
  let pathAt = 0;
  let groupedAt = 0;
  for (;;) {
    let pathEnd = path.indexOf("/", pathAt);
    if (pathEnd === -1) pathEnd = path.length;
    let groupedEnd = grouped.indexOf("/", groupedAt);
    if (groupedEnd === -1) groupedEnd = grouped.length;
    if (!equalRanges(path, pathAt, pathEnd, grouped, groupedAt, groupedEnd)) {
      const placeholder = grouped.charCodeAt(groupedAt) === OPEN_BRACE ? placeholderForRange(path, pathAt, pathEnd) : null;
      if (placeholder === null || !equalRanges(placeholder, 0, placeholder.length, grouped, groupedAt, groupedEnd)) return false;
    }
    if (pathEnd === path.length || groupedEnd === grouped.length) return pathEnd === path.length && groupedEnd === grouped.length;
    pathAt = pathEnd + 1;
    groupedAt = groupedEnd + 1;
  }
}

function equalRanges(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) {
    if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  }
  return true;
}

/** 32-bit FNV-1a over UTF-16 code units. */
function hashText(text: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
  return hash >>> 0;
}
