import type { AccessLogEntry, ProxyIdentity } from "../../core/model/access-log.ts";

/** One handed-over batch as the write-ahead buffer keeps it: the proxy that logged it and its entries. */
export interface WalBatch {
  proxy: ProxyIdentity;
  entries: AccessLogEntry[];
}

/** Turns the wire bytes a receiver kept (an ALS message) back into its entries on replay. */
export type SourceDecoder = (bytes: Uint8Array) => AccessLogEntry[];

/**
 * A record's first byte says what follows; a record of a kind this version does not know is refused on
 * replay, not misread.
 * - decoded: JSON `{ p: proxy, e: entries }`, for batches that come without wire bytes (log lines);
 * - als: `[u32 LE identity length][identity JSON][StreamAccessLogsMessage bytes]`: the bytes as received,
 *   so the hot ALS path copies them instead of serializing entries (bench/README.md, "Write-ahead buffer").
 */
const KIND_DECODED = 1;
const KIND_ALS = 2;

/**
 * Encodes batches into record parts (written with one writev, no concatenation). The identity of a proxy
 * is encoded once per ProxyIdentity object: receivers keep one per stream or request.
 */
export class WalRecordEncoder {
  private readonly identities = new WeakMap<ProxyIdentity, Buffer>();

  encode(proxy: ProxyIdentity, entries: readonly AccessLogEntry[], alsMessage: Uint8Array | undefined): Buffer[] {
    if (alsMessage === undefined) return [Buffer.from(`\u0001${JSON.stringify({ p: proxy, e: entries })}`)];
    return [this.identityPrefix(proxy), Buffer.from(alsMessage.buffer, alsMessage.byteOffset, alsMessage.byteLength)];
  }

  private identityPrefix(proxy: ProxyIdentity): Buffer {
    let prefix = this.identities.get(proxy);
    if (prefix === undefined) {
      const identity = Buffer.from(JSON.stringify(proxy));
      prefix = Buffer.allocUnsafe(5 + identity.length);
      prefix.writeUInt8(KIND_ALS, 0);
      prefix.writeUInt32LE(identity.length, 1);
      identity.copy(prefix, 5);
      this.identities.set(proxy, prefix);
    }
    return prefix;
  }
}

/** The batch a record holds, or null when it is not a record this version wrote. */
export function decodeWalRecord(record: Buffer, decodeAls: SourceDecoder): WalBatch | null {
  try {
    const kind = record.readUInt8(0);
    if (kind === KIND_DECODED) {
      const { p, e } = JSON.parse(record.toString("utf8", 1)) as { p?: unknown; e?: unknown };
      return isIdentity(p) && Array.isArray(e) ? { proxy: p, entries: e as AccessLogEntry[] } : null;
    }
    if (kind !== KIND_ALS) return null;
    const identityEnd = 5 + record.readUInt32LE(1);
    const proxy: unknown = JSON.parse(record.toString("utf8", 5, identityEnd));
    return isIdentity(proxy) ? { proxy, entries: decodeAls(record.subarray(identityEnd)) } : null;
  } catch {
    return null;
  }
}

function isIdentity(value: unknown): value is ProxyIdentity {
  return typeof value === "object" && value !== null && "self" in value;
}
