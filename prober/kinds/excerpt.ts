/**
 * How much of what a target answered (a response body, a JSON value, a TCP reply, a DNS answer, a gRPC
 * status text) a probe's message may quote. Messages are stored, shown by the API and sent in alerts,
 * and a case can point at an internal service: quoting whole bodies would turn probes into a way to read
 * that service's data. docs/probes.md ("What results show") documents the limit.
 */
export const EXCERPT_MAX_CHARS = 64;

function head(text: string, hasMore: boolean): { start: string; isCut: boolean } {
  // Only the start is looked at, so a megabyte body costs no more than a short one.
  const characters = Array.from(text.slice(0, EXCERPT_MAX_CHARS * 2));
  const isCut = hasMore || characters.length > EXCERPT_MAX_CHARS || text.length > EXCERPT_MAX_CHARS * 2;
  return { start: characters.slice(0, EXCERPT_MAX_CHARS).join(""), isCut };
}

/**
 * The first EXCERPT_MAX_CHARS characters of `text`, "..." after them when there was more. `hasMore` says
 * `text` is itself only the start of something longer.
 */
export function excerptText(text: string, hasMore = false): string {
  const { start, isCut } = head(text, hasMore);
  return isCut ? `${start}...` : start;
}

/** excerptText quoted as JSON, so control characters and quotes stay readable: `"database unavailable"`. */
export function excerpt(text: string, hasMore = false): string {
  const { start, isCut } = head(text, hasMore);
  return isCut ? `${JSON.stringify(start)}...` : JSON.stringify(start);
}
