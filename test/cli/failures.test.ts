import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { generateCertificates } from "../prober/kinds/support/certificates.ts";
import { freePort } from "../services/index.ts";
import { killIfRunning, RECEIVERS_ON_FREE_PORTS, runCli, stopWith, waitForHttpPort, waitForListeningPort, type CliRun } from "./cli-process.ts";

const dataDir = mkdtempSync(join(tmpdir(), "meshsight-cli-fail-"));
const runs: CliRun[] = [];
after(() => {
  for (const run of runs) killIfRunning(run);
  rmSync(dataDir, { recursive: true, force: true });
});

const stderrLines = (text: string): string[] => text.split("\n").filter((line) => line.trim() !== "");

/** The guard's admission webhook on `port`, with a certificate it can serve. */
function admissionOn(port: number): NodeJS.ProcessEnv {
  const certificates = generateCertificates();
  const certFile = join(dataDir, "admission.crt");
  const keyFile = join(dataDir, "admission.key");
  writeFileSync(certFile, certificates.valid.certPem);
  writeFileSync(keyFile, certificates.valid.keyPem);
  return { MESHSIGHT_ADMISSION_ENABLED: "true", MESHSIGHT_ADMISSION_HOST: "127.0.0.1", MESHSIGHT_ADMISSION_PORT: String(port), MESHSIGHT_ADMISSION_CERT_FILE: certFile, MESHSIGHT_ADMISSION_KEY_FILE: keyFile };
}

void describe("meshsight start failures", () => {
  void it("exits 2 with one line naming key, value and source on a bad config value", async () => {
    const run = runCli(["start"], { MESHSIGHT_HTTP_PORT: "abc", MESHSIGHT_DATA_DIR: dataDir });
    assert.equal(await run.exited(), 2);
    assert.deepEqual(stderrLines(run.stderr()), ['meshsight: invalid config: http.port = "abc" (from MESHSIGHT_HTTP_PORT): expected an integer 0..65535']);
  });

  void it("exits 2 on an unknown flag or command, with the likely spelling", async () => {
    const flag = runCli(["start", "--htp-port", "1"]);
    assert.equal(await flag.exited(), 2);
    assert.deepEqual(stderrLines(flag.stderr()), ["meshsight: invalid command line: unknown flag --htp-port (did you mean --http-port?) (see meshsight start --help)"]);
    const command = runCli(["strat"]);
    assert.equal(await command.exited(), 2);
    assert.deepEqual(stderrLines(command.stderr()), ['meshsight: unknown command "strat" (did you mean start?) (commands: start, ingest, simulate, help; see meshsight --help)']);
  });

  void it("exits 1 naming the setting to change when a port is in use, the HTTP API's, a gRPC receiver's or the admission webhook's, without gRPC's own line", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    after(() => busy.close());
    const port = (busy.address() as AddressInfo).port;
    const http = runCli(["start", "--host", "127.0.0.1", "--http-port", String(port)], { ...RECEIVERS_ON_FREE_PORTS, MESHSIGHT_DATA_DIR: dataDir });
    assert.equal(await http.exited(), 1);
    assert.deepEqual(stderrLines(http.stderr()), [
      `meshsight: http failed to start: cannot listen on 127.0.0.1:${port}: address already in use; stop what listens there or change http.port (--http-port or MESHSIGHT_HTTP_PORT)`,
    ]);
    const grpc = runCli(["start", "--host", "127.0.0.1", "--http-port", "0"], { ...RECEIVERS_ON_FREE_PORTS, MESHSIGHT_OTLP_GRPC_PORT: String(port), MESHSIGHT_DATA_DIR: dataDir });
    assert.equal(await grpc.exited(), 1);
    assert.deepEqual(stderrLines(grpc.stderr()), [
      `meshsight: receivers.otlp-grpc failed to start: OTLP gRPC receiver cannot listen on 127.0.0.1:${port}: address already in use; stop what listens there or change receivers.otlp.grpcPort (--otlp-grpc-port or MESHSIGHT_OTLP_GRPC_PORT)`,
    ]);
    const admission = runCli(["start", "--host", "127.0.0.1", "--http-port", "0"], { ...RECEIVERS_ON_FREE_PORTS, ...admissionOn(port), MESHSIGHT_DATA_DIR: dataDir });
    assert.equal(await admission.exited(), 1);
    assert.deepEqual(stderrLines(admission.stderr()), [
      `meshsight: guard.admission failed to start: cannot listen on 127.0.0.1:${port}: address already in use; stop what listens there or change actions.guard.admission.port (--admission-port or MESHSIGHT_ADMISSION_PORT)`,
    ]);
  });

  void it("logs the admission webhook's listening line as every listener does", async () => {
    const run = runCli(["start", "--host", "127.0.0.1", "--http-port", "0"], { ...RECEIVERS_ON_FREE_PORTS, ...admissionOn(0), MESHSIGHT_DATA_DIR: dataDir });
    runs.push(run);
    const port = await waitForListeningPort(run, "guard.admission");
    const line = run.stdoutLines().map((text) => JSON.parse(text) as Record<string, unknown>).find((record) => record.component === "guard.admission" && record.msg === "listening");
    assert.deepEqual([line?.host, line?.url], ["127.0.0.1", `https://127.0.0.1:${port}/validate`]);
    assert.ok(port > 0);
    assert.equal((await stopWith(run, "SIGTERM")).code, 0);
  });

  void it("runs on without Kubernetes, saying so in one line, when KUBECONFIG names a missing file; warns of a misspelled MESHSIGHT_ variable", async () => {
    const missing = join(dataDir, "no-such-kubeconfig");
    const run = runCli(["start", "--host", "127.0.0.1", "--http-port", "0"], { ...RECEIVERS_ON_FREE_PORTS, MESHSIGHT_DATA_DIR: dataDir, KUBECONFIG: missing, MESHSIGHT_HTTP_PROT: "9" });
    runs.push(run);
    await waitForHttpPort(run);
    const warnings = run.stdoutLines().map((line) => JSON.parse(line) as { level: string; msg: string }).filter((record) => record.level === "warn").map((record) => record.msg);
    assert.deepEqual(warnings.filter((message) => !message.startsWith("no API tokens")), [
      "MESHSIGHT_HTTP_PROT is not a meshsight setting and is ignored (did you mean MESHSIGHT_HTTP_PORT?)",
      `cannot read the Kubernetes configuration (KUBECONFIG=${missing}): ENOENT: no such file or directory, open '${missing}'; running without Kubernetes: peers are named from the static mapping or cluster host names, Kubernetes probes and actions are off`,
    ]);
    assert.equal((await stopWith(run, "SIGINT")).code, 0);
    assert.equal(run.stderr(), "");
  });

  void it("exits 1 with one clear line when ClickHouse cannot be reached", async () => {
    const closedPort = await freePort();
    const run = runCli(["start", "--http-port", "0"], { MESHSIGHT_CLICKHOUSE_URL: `http://127.0.0.1:${closedPort}`, MESHSIGHT_DATA_DIR: dataDir });
    assert.equal(await run.exited(), 1);
    const lines = stderrLines(run.stderr());
    assert.equal(lines.length, 1, run.stderr());
    assert.match(lines[0] ?? "", new RegExp(`^meshsight: cannot reach ClickHouse at http://127\\.0\\.0\\.1:${closedPort}/?: .*ECONNREFUSED`));
    assert.ok(!run.stdoutLines().some((line) => line.includes('"listening"')), "HTTP must not start without storage");
  });

  void it("exits 1 with one clear line when Redis cannot be reached", async () => {
    const closedPort = await freePort();
    const run = runCli(["start", "--http-port", "0"], { MESHSIGHT_REDIS_URL: `redis://127.0.0.1:${closedPort}`, MESHSIGHT_DATA_DIR: dataDir });
    assert.equal(await run.exited(), 1);
    const lines = stderrLines(run.stderr());
    assert.equal(lines.length, 1, run.stderr());
    assert.match(lines[0] ?? "", new RegExp(`^meshsight: cannot reach Redis at redis://127\\.0\\.0\\.1:${closedPort}: `));
  });

  void it("prints flags and env names for start --help and exits 0", async () => {
    const run = runCli(["start", "--help"]);
    assert.equal(await run.exited(), 0);
    const help = run.stdoutLines().join("\n");
    assert.match(help, /^Usage: meshsight start \[flags\]/);
    for (const name of ["--http-port", "MESHSIGHT_HTTP_PORT", "MESHSIGHT_ALS_PORT", "MESHSIGHT_CLICKHOUSE_URL", "MESHSIGHT_REDIS_URL", "MESHSIGHT_CONFIG"]) assert.ok(help.includes(name), name);
  });
});
