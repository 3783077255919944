import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ServerCredentials, status as GrpcStatus } from "@grpc/grpc-js";
import { grpcKind } from "../../../prober/kinds/grpc-kind.ts";
import { startHealthServer, type Statuses } from "./support/grpc-health-server.ts";
import { generateCertificates, type TestCertificates } from "./support/certificates.ts";
import { contextWithTimeout } from "./support/servers.ts";

describe("grpc probe kind", () => {
  const statuses: Statuses = new Map([
    ["", "SERVING"],
    ["checkout", "SERVING"],
    ["payments", "NOT_SERVING"],
  ]);
  let plain: Awaited<ReturnType<typeof startHealthServer>>;
  let secure: Awaited<ReturnType<typeof startHealthServer>>;
  let certificates: TestCertificates;

  before(async () => {
    certificates = generateCertificates(30);
    plain = await startHealthServer(statuses, ServerCredentials.createInsecure());
    secure = await startHealthServer(statuses, ServerCredentials.createSsl(null, [{ private_key: Buffer.from(certificates.valid.keyPem), cert_chain: Buffer.from(certificates.valid.certPem) }]));
  });

  after(() => {
    plain.close();
    secure.close();
  });

  it("passes when the server and a named service are SERVING", async () => {
    for (const service of ["", "checkout"]) {
      const outcome = await grpcKind.run(grpcKind.parseSpec({ service }), plain.target, contextWithTimeout(5_000));
      assert.equal(outcome.status, "success", outcome.message);
      assert.equal(outcome.metrics.grpc_status_code, 0);
      assert.equal(outcome.metrics.grpc_healthcheck_response, 1);
      assert.ok(outcome.phases.check! > 0);
    }
  });

  it("fails on NOT_SERVING naming the service", async () => {
    const outcome = await grpcKind.run(grpcKind.parseSpec({ service: "payments" }), plain.target, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.equal(outcome.message, `grpc.health.v1.Health/Check for "payments" at ${plain.target} answered NOT_SERVING, expected SERVING`);
    assert.equal(outcome.metrics.grpc_healthcheck_response, 2);
  });

  it("fails on an unknown service with NOT_FOUND", async () => {
    const outcome = await grpcKind.run(grpcKind.parseSpec({ service: "nope" }), plain.target, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /failed: the server does not know the service "nope" \(NOT_FOUND\)$/);
    assert.equal(outcome.metrics.grpc_status_code, GrpcStatus.NOT_FOUND);
  });

  it("times out on a server that never answers", async () => {
    const outcome = await grpcKind.run(grpcKind.parseSpec({ service: "hang" }), plain.target, contextWithTimeout(300));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /^timed out after 300ms calling grpc\.health\.v1\.Health\/Check for "hang"/);
  });

  it("fails UNAVAILABLE when nothing listens", async () => {
    const gone = await startHealthServer(statuses, ServerCredentials.createInsecure());
    gone.close();
    const outcome = await grpcKind.run(grpcKind.parseSpec({}), gone.target, contextWithTimeout(5_000));
    assert.equal(outcome.status, "failure");
    assert.match(outcome.message, /failed: the server is unreachable \(UNAVAILABLE: /);
  });

  it("speaks TLS with a given CA, and refuses an untrusted certificate", async () => {
    const trusted = await grpcKind.run(grpcKind.parseSpec({ tls: true, caPem: certificates.valid.certPem, serverName: "localhost" }), secure.target, contextWithTimeout(5_000));
    assert.equal(trusted.status, "success", trusted.message);
    assert.equal(trusted.metrics.grpc_ssl, 1);
    const daysLeft = (trusted.metrics.ssl_earliest_cert_expiry! - Date.now() / 1000) / 86_400;
    assert.ok(daysLeft > 29 && daysLeft <= 30, `days left ${daysLeft}`);
    assert.equal(trusted.metrics.tls_version_info, 1.3);
    const untrusted = await grpcKind.run(grpcKind.parseSpec({ tls: true }), secure.target, contextWithTimeout(5_000));
    assert.equal(untrusted.status, "failure");
    assert.match(untrusted.message, /UNAVAILABLE/);
  });
});
