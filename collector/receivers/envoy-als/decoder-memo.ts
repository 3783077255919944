/**
 * What the ALS decoder remembers between messages, shared by every stream of one receiver because peers,
 * clusters and pod addresses repeat across proxies too. Every part is bounded by construction.
 */
import { ByteKeyedCache } from "../wire/byte-keyed-cache.ts";
import { PeerMemo } from "./peer-metadata.ts";
import { StringInterner } from "../wire/string-interner.ts";

/** Distinct `ip:port` texts kept: a mesh's pod and service addresses with their listening ports. */
const ADDRESS_SLOTS = 16_384;
/** A SocketAddress is a tag, an IP (at most 45 characters for IPv6) and a port: anything longer is odd. */
const MAX_ADDRESS_BYTES = 64;
const MAX_PORT = 65_535;

export class DecoderMemo {
  /** Decoded Istio peer metadata by its encoded bytes. */
  readonly peers = new PeerMemo();
  /** Repeated short strings by their UTF-8 bytes. */
  readonly strings = new StringInterner();
  /** `ip:port` texts by their encoded SocketAddress bytes (only for non-ephemeral ports, see common-properties.ts). */
  readonly addresses = new ByteKeyedCache<string>(ADDRESS_SLOTS, MAX_ADDRESS_BYTES);
  /** Decimal text of each port number seen: bounded by the 65,536 ports there are. */
  private readonly portTexts: (string | undefined)[] = [];

  /** `String(port)` without allocating a new string for a port seen before. */
  portText(port: number): string {
    if (!(port >= 0 && port <= MAX_PORT && Number.isInteger(port))) return String(port);
    let text = this.portTexts[port];
    if (text === undefined) {
      text = String(port);
      this.portTexts[port] = text;
    }
    return text;
  }
}
