/**
 * BullMQ rejects custom job ids that are integers ("Custom Id cannot be integers") or contain ":"
 * (it reserves that for scheduler ids), while the port accepts any non-empty string. Custom ids are
 * therefore stored with a prefix and ":" / "%" percent-encoded, and decoded on the way out. BullMQ's own
 * ids (numbers, `repeat:<scheduler>:<ms>`) never start with the prefix and pass through unchanged.
 */
const CUSTOM_ID_PREFIX = "id-";

/** Percent-encodes ":" (and "%" so the encoding stays reversible); also used for scheduler ids. */
export function escapeColons(id: string): string {
  return id.replace(/[%:]/g, (char) => (char === "%" ? "%25" : "%3A"));
}

export function toBullJobId(jobId: string): string {
  return CUSTOM_ID_PREFIX + escapeColons(jobId);
}

export function fromBullJobId(bullJobId: string | undefined): string {
  if (bullJobId === undefined) return "";
  if (!bullJobId.startsWith(CUSTOM_ID_PREFIX)) return bullJobId;
  return bullJobId.slice(CUSTOM_ID_PREFIX.length).replace(/%(25|3A)/g, (escape) => (escape === "%25" ? "%" : ":"));
}
