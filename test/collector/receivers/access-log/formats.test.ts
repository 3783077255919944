import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AccessLogEntry } from "../../../../core/model/access-log.ts";
import { newAccessLogEntry } from "../../../../core/model/access-log.ts";
import type { LineRejectReason } from "../../../../collector/receivers/access-log/entry.ts";
import { createLineParser } from "../../../../collector/receivers/access-log/formats.ts";
import { MOSN_FAILURE_FLAG } from "../../../../collector/receivers/access-log/mosn-operators.ts";

function parse(format: string, line: string): AccessLogEntry | LineRejectReason {
  return createLineParser(format, { now: () => 1_700_000_000_000 }).parse(line, 0, line.length);
}

function parsed(format: string, line: string): AccessLogEntry {
  const result = parse(format, line);
  assert.equal(typeof result, "object", `expected an entry, got reject ${typeof result === "string" ? result : ""}`);
  return result as AccessLogEntry;
}

/** Every field of the entry, so an unexpected value anywhere fails the test. */
function expectEntry(actual: AccessLogEntry, changes: Partial<AccessLogEntry>): void {
  assert.deepEqual(actual, { ...newAccessLogEntry("tcp"), ...changes });
}

// Exact lines from istio.io's access-log task (https://istio.io/latest/docs/tasks/observability/logs/access-log/).
const ISTIO_CLIENT_LINE =
  '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default';
const ISTIO_SERVER_LINE =
  '[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 3 1 "-" "curl/7.73.0-DEV" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "127.0.0.1:80" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 outbound_.8000_._.httpbin.foo.svc.cluster.local default';
const START_2020 = Date.UTC(2020, 10, 25, 21, 26, 18, 409);

const ISTIO_CLIENT_ENTRY: Partial<AccessLogEntry> = {
  startTimeMs: START_2020,
  protocol: "http",
  method: "GET",
  path: "/status/418",
  responseCode: 418,
  bytesReceived: 0,
  bytesSent: 135,
  durationMs: 4,
  timeToLastDownstreamTxMs: 4,
  upstreamLatencyMs: 4,
  userAgent: "curl/7.73.0-DEV",
  requestId: "84961386-6d84-929d-98bd-c5aee93b5c88",
  authority: "httpbin:8000",
  upstreamRemoteAddress: "10.44.1.27:80",
  upstreamCluster: "outbound|8000||httpbin.foo.svc.cluster.local",
  upstreamLocalAddress: "10.44.1.23:37652",
  downstreamLocalAddress: "10.0.45.184:8000",
  downstreamRemoteAddress: "10.44.1.23:46520",
};

describe("istio text format", () => {
  it("parses the client (outbound) sidecar example field by field", () => {
    expectEntry(parsed("istio", ISTIO_CLIENT_LINE), ISTIO_CLIENT_ENTRY);
  });

  it("parses the server (inbound) sidecar example, with SNI", () => {
    expectEntry(parsed("istio", ISTIO_SERVER_LINE), {
      ...ISTIO_CLIENT_ENTRY,
      durationMs: 3,
      timeToLastDownstreamTxMs: 3,
      upstreamLatencyMs: 1,
      upstreamRemoteAddress: "127.0.0.1:80",
      upstreamCluster: "inbound|8000||",
      upstreamLocalAddress: "127.0.0.1:41854",
      downstreamLocalAddress: "10.44.1.27:80",
      downstreamRemoteAddress: "10.44.1.23:37652",
      requestedServerName: "outbound_.8000_._.httpbin.foo.svc.cluster.local",
    });
  });

  it("accepts pre-1.9 lines (no response-code or termination details) and switches back", () => {
    const pre19 = ISTIO_CLIENT_LINE.replace(" via_upstream - ", " ");
    const parser = createLineParser("istio");
    for (const line of [pre19, ISTIO_CLIENT_LINE, pre19]) {
      const result = parser.parse(line, 0, line.length);
      assert.equal(typeof result, "object");
      expectEntry(result as AccessLogEntry, ISTIO_CLIENT_ENTRY);
    }
  });

  it("drops alt_stat_name extras after ';' in 1.23 %UPSTREAM_CLUSTER% values", () => {
    const line = ISTIO_CLIENT_LINE.replace("outbound|8000||httpbin.foo.svc.cluster.local", "outbound|8000||httpbin.foo.svc.cluster.local;");
    assert.equal(parsed("istio", line).upstreamCluster, "outbound|8000||httpbin.foo.svc.cluster.local");
  });

  it("reads response flags, TCP lines and user agents with spaces", () => {
    const line =
      '[2024-03-01T00:00:00.000Z] "- - -" 0 UF,URX - - "connection_failure" 0 0 1001 - "-" "-" "-" "-" "10.1.2.3:3306" outbound|3306||mysql.db.svc.cluster.local - 10.96.0.10:3306 10.1.0.5:51234 - -';
    const tcp = parsed("istio", line);
    assert.equal(tcp.protocol, "tcp");
    assert.equal(tcp.method, "");
    assert.equal(tcp.responseCode, 0);
    assert.equal(tcp.responseFlags, "UF,URX");
    assert.equal(tcp.upstreamLatencyMs, -1);
    assert.equal(tcp.durationMs, 1001);
    const browser = ISTIO_CLIENT_LINE.replace("curl/7.73.0-DEV", "Mozilla/5.0 (X11; Linux x86_64) Gecko");
    assert.equal(parsed("istio", browser).userAgent, "Mozilla/5.0 (X11; Linux x86_64) Gecko");
  });

  it("rejects lines with a wrong field count, bad numbers and bad times with distinct reasons", () => {
    assert.equal(parse("istio", `${ISTIO_CLIENT_LINE} extra`), "field_count");
    assert.equal(parse("istio", ISTIO_CLIENT_LINE.slice(0, 120)), "field_count");
    assert.equal(parse("istio", ISTIO_CLIENT_LINE.replace(" 418 ", " 4x8 ")), "bad_number");
    assert.equal(parse("istio", ISTIO_CLIENT_LINE.replace("2020-11-25T21", "2020-13-25T21")), "bad_start_time");
    assert.equal(parse("istio", "\u0000\u0001garbage"), "field_count");
  });
});

describe("envoy default format", () => {
  it("parses the documented example, stripping tcp:// from the upstream host", () => {
    const line =
      '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"';
    expectEntry(parsed("envoy", line), {
      startTimeMs: Date.UTC(2016, 3, 15, 20, 17, 0, 310),
      protocol: "http",
      method: "POST",
      path: "/api/v1/locations",
      responseCode: 204,
      bytesReceived: 154,
      bytesSent: 0,
      durationMs: 226,
      timeToLastDownstreamTxMs: 226,
      upstreamLatencyMs: 100,
      userAgent: "nsq2http",
      requestId: "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2",
      authority: "locations",
      upstreamRemoteAddress: "10.0.2.1:80",
    });
  });

  it("rejects an Istio line (more fields than the Envoy format)", () => {
    assert.equal(parse("envoy", ISTIO_CLIENT_LINE), "field_count");
  });
});

describe("istio json format", () => {
  it("accepts any key order, numbers or strings, '-' and null as unset, and ignores extra keys", () => {
    const line = JSON.stringify({
      upstream_cluster: "inbound|9080||",
      extra_key: { nested: true },
      duration: 12,
      response_code: "503",
      response_flags: "UH",
      start_time: "2024-05-01T10:00:00.123Z",
      method: "POST",
      path: "/reviews/0",
      protocol: "HTTP/2",
      bytes_received: "10",
      bytes_sent: 20,
      upstream_service_time: null,
      user_agent: "-",
      request_id: "abc",
      authority: "reviews:9080",
      upstream_host: "10.0.0.9:9080",
      upstream_local_address: "127.0.0.6:40000",
      downstream_local_address: "10.0.0.9:9080",
      downstream_remote_address: "10.0.0.7:51000",
      requested_server_name: "outbound_.9080_._.reviews.default.svc.cluster.local",
      route_name: "default",
    });
    expectEntry(parsed("json", line), {
      startTimeMs: Date.UTC(2024, 4, 1, 10, 0, 0, 123),
      protocol: "http",
      upstreamCluster: "inbound|9080||",
      method: "POST",
      path: "/reviews/0",
      responseCode: 503,
      responseFlags: "UH",
      durationMs: 12,
      timeToLastDownstreamTxMs: 12,
      bytesReceived: 10,
      bytesSent: 20,
      requestId: "abc",
      authority: "reviews:9080",
      upstreamRemoteAddress: "10.0.0.9:9080",
      upstreamLocalAddress: "127.0.0.6:40000",
      downstreamLocalAddress: "10.0.0.9:9080",
      downstreamRemoteAddress: "10.0.0.7:51000",
      requestedServerName: "outbound_.9080_._.reviews.default.svc.cluster.local",
    });
  });

  it("rejects non-objects, broken JSON and bad values", () => {
    assert.equal(parse("json", "[1,2]"), "malformed_json");
    assert.equal(parse("json", '{"start_time": "2024-05-01T10:00:00Z", "method": '), "malformed_json");
    assert.equal(parse("json", '{"start_time": "2024-05-01T10:00:00Z", "bytes_sent": "lots"}'), "bad_number");
    assert.equal(parse("json", '{"method": "GET"}'), "bad_start_time");
  });
});

describe("mosn format", () => {
  it("parses the pre-2022 example from mosn's tests (Go durations, IPv6, spaced start time)", () => {
    const line = "2018/12/14 18:08:33.054 1.329µs 2.00000227s 2048 2048 - 0 126.868µs false 0 127.0.0.1:23456 [2001:db8::68]:12200 127.0.0.1:53242 -";
    expectEntry(parsed("mosn", line), {
      startTimeMs: Date.UTC(2018, 11, 14, 18, 8, 33, 54),
      upstreamLatencyMs: 2000.00227,
      bytesSent: 2048,
      bytesReceived: 2048,
      durationMs: 0.126868,
      timeToLastDownstreamTxMs: 0.126868,
      upstreamLocalAddress: "127.0.0.1:23456",
      downstreamLocalAddress: "[2001:db8::68]:12200",
      downstreamRemoteAddress: "127.0.0.1:53242",
    });
  });

  it("parses the current default with trace and connection ids (double space) and a failure flag", () => {
    const line =
      "2023/06/01 08:00:00.500 0a1b2c3d4e5f  17 18 2ms 1m2.5s 10 20 Http1 502 1m3s true 502 10.0.0.1:3000 10.0.0.2:80 10.0.0.3:5000 10.0.0.4:8080";
    expectEntry(parsed("mosn", line), {
      startTimeMs: Date.UTC(2023, 5, 1, 8, 0, 0, 500),
      protocol: "http",
      scheme: "http",
      traceId: "0a1b2c3d4e5f",
      upstreamLatencyMs: 62_500,
      bytesSent: 10,
      bytesReceived: 20,
      responseCode: 502,
      durationMs: 63_000,
      timeToLastDownstreamTxMs: 63_000,
      responseFlags: MOSN_FAILURE_FLAG,
      upstreamLocalAddress: "10.0.0.1:3000",
      downstreamLocalAddress: "10.0.0.2:80",
      downstreamRemoteAddress: "10.0.0.3:5000",
      upstreamRemoteAddress: "10.0.0.4:8080",
    });
  });

  it("applies the configured zone offset and rejects bad durations", () => {
    const line = "2018/12/14 18:08:33.054 1.329µs 2s 1 1 bolt 0 1h false 0 - - - -";
    const parser = createLineParser("mosn", { mosnUtcOffsetMinutes: 480 });
    const entry = parser.parse(line, 0, line.length) as AccessLogEntry;
    assert.equal(entry.startTimeMs, Date.UTC(2018, 11, 14, 10, 8, 33, 54));
    assert.equal(entry.scheme, "bolt");
    assert.equal(entry.durationMs, 3_600_000);
    assert.equal(parse("mosn", line.replace(" 1h ", " 1parsec ")), "bad_duration");
  });
});

describe("custom format strings", () => {
  it("compiles a custom Envoy format once and maps known operators, skipping unknown ones", () => {
    const parser = createLineParser(
      'custom:%START_TIME(%s.%3f)% %REQ(:METHOD)% %REQ(:PATH)% %RESPONSE_CODE% %FOO_UNKNOWN% "%REQ(USER-AGENT)%" %REQ(TRACEPARENT)% %DOWNSTREAM_PEER_URI_SAN% 100%% %DURATION%\n',
    );
    const line = '1700000000123 GET /a/b 200 whatever "ua with spaces" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 spiffe://x 100% 7';
    const entry = parser.parse(line, 0, line.length) as AccessLogEntry;
    expectEntry(entry, {
      startTimeMs: 1_700_000_000_123,
      // No %PROTOCOL% in the format: a method and a path make it an HTTP request.
      protocol: "http",
      method: "GET",
      path: "/a/b",
      responseCode: 200,
      userAgent: "ua with spaces",
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      tlsMode: "mtls",
      downstreamPeerPrincipal: "spiffe://x",
      durationMs: 7,
      timeToLastDownstreamTxMs: 7,
    });
  });

  it("takes a line naming a method and a path as HTTP without %PROTOCOL%, and keeps what a stated protocol says", () => {
    const withoutProtocol = "custom:[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%\" %RESPONSE_CODE% %UPSTREAM_CLUSTER%";
    assert.equal(parsed(withoutProtocol, '[2024-05-01T10:00:00.000Z] "GET /ratings/1" 200 inbound|9080||').protocol, "http");
    // A TCP proxy logs no request line: still TCP.
    assert.equal(parsed(withoutProtocol, '[2024-05-01T10:00:00.000Z] "- -" 0 inbound|3306||').protocol, "tcp");
    assert.equal(parsed("custom:%REQ(:METHOD)% %RESPONSE_CODE%", "GET 200").protocol, "tcp", "a method without a path is no request line");
    // The line states its protocol: `-` is Envoy's TCP, whatever else the line holds.
    assert.equal(parsed("custom:%REQ(:METHOD)% %REQ(:PATH)% %PROTOCOL%", "GET /x -").protocol, "tcp");
    assert.equal(parsed("json", '{"start_time": "2024-05-01T10:00:00Z", "method": "GET", "path": "/x"}').protocol, "http");
    assert.equal(parsed("json", '{"start_time": "2024-05-01T10:00:00Z", "method": "GET", "path": "/x", "protocol": "-"}').protocol, "http", "an unset protocol is no statement");
    assert.equal(parsed("json", '{"start_time": "2024-05-01T10:00:00Z", "bytes_sent": 10}').protocol, "tcp");
  });

  it("takes the literals of a format as text, whatever code they look like", () => {
    // The parser is built as one function with the format's literals in its source: quotes, backslashes,
    // template and comment syntax, newlines and line separators must stay separators and never run.
    const literals = ['"', "\\", "`${globalThis.hijacked = 1}`", "*/ throw 1; /*", '\\"); throw 1; ("', "\u2028", "\r\n\t"];
    for (const literal of literals) {
      const entry = parsed(`custom:%REQ(:METHOD)%${literal}%RESPONSE_CODE%${literal}%DURATION%`, `GET${literal}200${literal}7`);
      assert.equal(entry.method, "GET", JSON.stringify(literal));
      assert.equal(entry.responseCode, 200, JSON.stringify(literal));
      assert.equal(entry.durationMs, 7, JSON.stringify(literal));
    }
    assert.equal((globalThis as { hijacked?: number }).hijacked, undefined);
  });

  it("uses the receive time when the format has no start time, and refuses unusable formats at compile time", () => {
    const entry = parsed("custom:%REQ(:METHOD)% %RESPONSE_CODE%", "GET 200");
    assert.equal(entry.startTimeMs, 1_700_000_000_000);
    assert.throws(() => createLineParser("custom:%REQ(:METHOD)%%RESPONSE_CODE%"), /no separator/);
    assert.throws(() => createLineParser("custom:no operators"), /no operators/);
    assert.throws(() => createLineParser("syslog"), /unknown access-log format/);
  });
});
