import assert from "node:assert/strict";
import { it } from "node:test";
import type { AccessLogEntry } from "../../../../core/model/access-log.ts";
import { createLineParser } from "../../../../collector/receivers/access-log/formats.ts";

/**
 * A text format that logs `%DOWNSTREAM_PEER_URI_SAN%` gives the caller's mTLS identity, which names the caller
 * when nothing else in the line does (docs/architecture.md, "Call attribution").
 */
it("keeps the downstream peer's URI SAN as the caller's principal, and marks the connection mTLS", () => {
  const format = 'custom:[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %UPSTREAM_CLUSTER% %DOWNSTREAM_PEER_URI_SAN%';
  const line = '[2026-12-07T10:00:00.000Z] "GET /reviews/0 HTTP/1.1" 200 inbound|9080|| spiffe://cluster.local/ns/default/sa/bookinfo-productpage';
  const entry = createLineParser(format).parse(line, 0, line.length) as AccessLogEntry;
  assert.equal(typeof entry, "object");
  assert.equal(entry.downstreamPeerPrincipal, "spiffe://cluster.local/ns/default/sa/bookinfo-productpage");
  assert.equal(entry.tlsMode, "mtls");
  const plaintext = line.replace(/spiffe:\S+$/, "-");
  const withoutIdentity = createLineParser(format).parse(plaintext, 0, plaintext.length) as AccessLogEntry;
  assert.equal(withoutIdentity.downstreamPeerPrincipal, "");
  assert.equal(withoutIdentity.tlsMode, "none");
});
