/**
 * meshsight's DNS client reads answers as dns-packet (a widely used independent codec) writes them, and
 * writes records in miekg/dns `RR.String()` form, which blackbox_exporter's validate_*_rrs patterns are
 * written against. Malformed answers are refused with a reason, never read past their end.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import dnsPacket, { type Answer } from "dns-packet";
import { decodeResponse, DnsFormatError, encodeQuery, recordText } from "../../../prober/kinds/dns/dns-message.ts";

function response(answers: Answer[], rcode = 0): Buffer {
  return dnsPacket.encode({ type: "response", id: 7, flags: rcode, questions: [{ type: "A", name: "x.test" }], answers });
}

describe("DNS messages", () => {
  it("writes a query dns-packet reads back: id, name, type, class and recursion desired", () => {
    const query = dnsPacket.decode(encodeQuery(4242, { name: "www.example.com.", type: 28, class: 1, recursionDesired: false }));
    assert.equal(query.id, 4242);
    assert.deepEqual(query.questions, [{ name: "www.example.com", type: "AAAA", class: "IN" }]);
    assert.equal((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED, 0);
    assert.equal((dnsPacket.decode(encodeQuery(1, { name: "a.b", type: 1, class: 1, recursionDesired: true })).flags ?? 0) & dnsPacket.RECURSION_DESIRED, dnsPacket.RECURSION_DESIRED);
  });

  it("writes records as miekg/dns does", () => {
    const decoded = decodeResponse(
      response([
        { type: "A", name: "x.test", ttl: 300, data: "192.0.2.1" },
        { type: "AAAA", name: "x.test", ttl: 300, data: "2001:db8::1" },
        { type: "AAAA", name: "x.test", ttl: 300, data: "2001:db8:0:1:0:0:0:1" },
        { type: "CNAME", name: "alias.x.test", ttl: 60, data: "x.test" },
        { type: "MX", name: "x.test", ttl: 60, data: { preference: 10, exchange: "mail.x.test" } },
        { type: "SRV", name: "_h._tcp.x.test", ttl: 60, data: { priority: 1, weight: 5, port: 8443, target: "api.x.test" } },
        { type: "TXT", name: "x.test", ttl: 60, data: ['say "hi"\\', "two"] },
        { type: "SOA", name: "x.test", ttl: 60, data: { mname: "ns.x.test", rname: "hostmaster.x.test", serial: 7, refresh: 1, retry: 2, expire: 3, minimum: 4 } },
        { type: "NS", name: "x.test", ttl: 60, data: "ns.x.test" },
      ]),
    );
    assert.deepEqual(decoded.answers.map(recordText), [
      "x.test.\t300\tIN\tA\t192.0.2.1",
      "x.test.\t300\tIN\tAAAA\t2001:db8::1",
      "x.test.\t300\tIN\tAAAA\t2001:db8:0:1::1",
      "alias.x.test.\t60\tIN\tCNAME\tx.test.",
      "x.test.\t60\tIN\tMX\t10 mail.x.test.",
      "_h._tcp.x.test.\t60\tIN\tSRV\t1 5 8443 api.x.test.",
      'x.test.\t60\tIN\tTXT\t"say \\"hi\\"\\\\" "two"',
      "x.test.\t60\tIN\tSOA\tns.x.test. hostmaster.x.test. 7 1 2 3 4",
      "x.test.\t60\tIN\tNS\tns.x.test.",
    ]);
    assert.equal(decoded.answers[7]?.serial, 7);
    assert.deepEqual(decoded.answers[6]?.strings, ['say "hi"\\', "two"]);
  });

  it("writes data it does not read in RFC 3597's generic form", () => {
    const [record] = decodeResponse(response([{ type: "NULL", name: "x.test", ttl: 60, data: Buffer.from([1, 2]) }])).answers;
    assert.equal(record && recordText(record), "x.test.\t60\tIN\tTYPE10\t\\# 2 0102");
  });

  it("reads the rcode and the three sections", () => {
    const message = dnsPacket.encode({
      type: "response",
      id: 9,
      flags: 3,
      questions: [{ type: "A", name: "gone.test" }],
      authorities: [{ type: "NS", name: "test", ttl: 1, data: "ns.test" }],
      additionals: [{ type: "A", name: "ns.test", ttl: 1, data: "192.0.2.53" }],
    });
    const decoded = decodeResponse(message);
    assert.deepEqual([decoded.id, decoded.rcode, decoded.answers.length, decoded.authorities.length, decoded.additionals.length], [9, 3, 0, 1, 1]);
  });

  it("refuses answers that end early, loop their name pointers or are queries", () => {
    const whole = response([{ type: "A", name: "x.test", ttl: 1, data: "192.0.2.1" }]);
    assert.throws(() => decodeResponse(whole.subarray(0, whole.length - 2)), DnsFormatError);
    const looping = Buffer.from(whole);
    // The answer's owner name is a pointer right after the question (offset 12 + 8 + 4); point it at itself.
    looping.writeUInt16BE(0xc000 | 24, 24);
    assert.throws(() => decodeResponse(looping), /compression pointers loop/);
    assert.throws(() => decodeResponse(encodeQuery(1, { name: "x.test", type: 1, class: 1, recursionDesired: true })), /a query, not a response/);
  });
});
