import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { chromium, type Browser, type Page } from "playwright-core";
import { simulateBookinfo } from "../../collector/simulator/simulate-bookinfo.ts";
import { waitFor, waitForValue } from "../support/wait-for.ts";
import { killIfRunning, runCli, stopWith, type CliRun } from "../cli/cli-process.ts";
import { listeningPort } from "./overview-cli.ts";

/**
 * The built-in page in a real browser against a real `meshsight start` fed by the bookinfo simulator:
 * what a user sees after `npm start`. Screenshots go to test/artifacts/ (not committed); docs/img/overview.png
 * is a copy of overview.png from a run.
 */

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ARTIFACTS = join(REPO_ROOT, "test", "artifacts");
const BOOKINFO = ["productpage.default", "reviews.default", "ratings.default", "details.default"];
/** A name with markup: the page must show it as text, never run it. */
const HOSTILE_SERVICE = "<img/src=x/onerror=window.__xss=1>";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** One Istio-format server-side line for `service`, timed now so it lands in the page's window. */
function accessLogLine(service: string): string {
  const at = new Date().toISOString();
  return `[${at}] "GET /items/1 HTTP/1.1" 200 - via_upstream - "-" 0 10 5 4 "-" "curl/8.5.0" "req-1" "${service}:8080" "10.1.2.3:8080" inbound|8080|| 127.0.0.6:40000 10.1.2.3:8080 10.1.2.4:50000 - default`;
}

void describe("the built-in overview page in headless Chromium", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "meshsight-overview-"));
  let run: CliRun | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let base = "";
  const pageProblems: string[] = [];

  before(async () => {
    run = runCli(
      ["start", "--host", "127.0.0.1", "--http-port", "0", "--als-port", "0", "--otlp-grpc-port", "0", "--otlp-http-port", "0", "--zipkin-port", "0", "--flush-interval-seconds", "1", "--lateness-seconds", "600"],
      // The health probe targets this process on loopback, which the egress policy denies unless allowed.
      // Analysis rounds every second, so the ratings fault fires the built-in SLA rule while the test runs.
      { MESHSIGHT_DATA_DIR: dataDir, MESHSIGHT_KUBERNETES: "off", MESHSIGHT_PROBE_EGRESS_ALLOW: "127.0.0.0/8", MESHSIGHT_ANALYZER_INTERVAL_MS: "1000" },
    );
    const [httpPort, alsPort] = await Promise.all([listeningPort(run, "http"), listeningPort(run, "als")]);
    base = `http://127.0.0.1:${httpPort}`;
    // A fifth of ratings' calls fail, so the page has a critical service to colour; peer metadata on every
    // request names every caller (without it and without Kubernetes, half the callers would be UNKNOWN).
    const report = await simulateBookinfo({ target: `127.0.0.1:${alsPort}`, requests: 150, durationMs: 5 * 60_000, faults: [{ kind: "abort", service: "ratings", fraction: 0.2 }] });
    assert.deepEqual(report.streamErrors, []);
    const probe = await fetch(`${base}/api/v1/probes/meshsight-health`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ kind: "http", targets: [`${base}/healthz`], schedule: { every: "1h" } }),
    });
    assert.equal(probe.status, 200, await probe.text());
    assert.equal((await fetch(`${base}/api/v1/probes/meshsight-health/run?wait=true`, { method: "POST" })).status, 200);
    let seen: string[] = [];
    await waitFor(async () => {
      const services = (await (await fetch(`${base}/api/v1/services`)).json()) as { name: string }[];
      seen = services.map((service) => service.name);
      return BOOKINFO.every((name) => seen.includes(name));
    }, "the simulated services in the API", 15_000).catch((error: unknown) => {
      throw new Error(`${String(error)}; the API lists ${JSON.stringify(seen)}`);
    });

    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on("pageerror", (error) => pageProblems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      // Without an analyzer the alerts API is a 404 the page expects (it hides the panel); Chromium logs it anyway.
      const isExpectedAlerts404 = message.location().url.includes("/api/v1/alerts");
      if (message.type() === "error" && !isExpectedAlerts404) pageProblems.push(`console: ${message.text()} (${message.location().url})`);
    });
    page.on("dialog", (dialog) => {
      pageProblems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
  });

  after(async () => {
    await browser?.close();
    if (run && run.child.exitCode === null) await stopWith(run, "SIGTERM");
    killIfRunning(run);
    rmSync(dataDir, { recursive: true, force: true });
  });

  void it("shows every bookinfo service with its health and the topology in call order", async () => {
    await page.goto(`${base}/`);
    const servicesTable = page.locator("#services table");
    await servicesTable.waitFor({ timeout: 10_000 });
    for (const name of BOOKINFO) {
      const row = servicesTable.locator("tr", { has: page.locator("a.service-link", { hasText: name }) });
      assert.equal(await row.count(), 1, `${name} listed`);
      assert.match((await row.locator(".badge").textContent()) ?? "", /^(healthy|degraded|critical)$/, `${name} has a health verdict`);
    }
    // ratings answers 20 % errors: far below the 95 % SLA that marks a service critical.
    assert.equal(await servicesTable.locator("tr", { hasText: "ratings.default" }).locator(".badge").textContent(), "critical");

    const x = async (name: string): Promise<number> => {
      const transform = await page.locator(`svg.topology g.node[data-name="${name}"]`).getAttribute("transform");
      const match = /translate\(([\d.]+),/.exec(transform ?? "");
      assert.ok(match?.[1], `${name} is drawn in the topology`);
      return Number(match[1]);
    };
    // Layered by call direction: every caller sits left of its callees.
    assert.ok((await x("productpage.default")) < (await x("reviews.default")));
    assert.ok((await x("productpage.default")) < (await x("details.default")));
    assert.ok((await x("reviews.default")) < (await x("ratings.default")));
    assert.equal(await page.locator('svg.topology g.edge[data-source="productpage.default"][data-target="reviews.default"]').count(), 1);
    assert.equal(await page.locator('svg.topology g.edge[data-source="reviews.default"][data-target="ratings.default"]').count(), 1);

    const probeRow = page.locator("#probes tr", { hasText: "meshsight-health" });
    assert.equal(await probeRow.locator(".badge").textContent(), "success");
    // No analyzer answers /api/v1/alerts in this process (404): the panel is hidden, not an error.
    if ((await fetch(`${base}/api/v1/alerts?state=firing`)).status === 404) assert.equal(await page.locator("#alerts").count(), 0);
    assert.match((await page.locator("#status").textContent()) ?? "", /^updated /);

    // The current rate beside the range average, each labelled; the failing callee's edge is coloured.
    assert.deepEqual(await servicesTable.locator("th").allTextContents(), ["health", "service", "layer", "cpm last minute", "cpm range avg", "SLA", "p95", "apdex"]);
    assert.match((await page.locator('svg.topology g.edge[data-source="reviews.default"][data-target="ratings.default"]').getAttribute("class")) ?? "", /\bfailing\b/);
    // The simulator played the last five minutes: the last complete one has calls, so the data is current,
    // and the newest records arrived moments ago by the server's clock.
    assert.match(
      (await page.locator("#services .freshness").textContent()) ?? "",
      /^Data up to \d\d:\d\d:\d\d( [AP]M)?, \d+ s ago\. Data is current: [1-9]\d* of \d+ services had calls in the last complete minute\.$/,
    );

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "overview.png"), fullPage: true });
    // Both common screen sizes: nothing wider than the window (tables wrap or scroll inside their cards).
    for (const [width, height] of [[1280, 800], [1920, 1080]] as const) {
      await page.setViewportSize({ width, height });
      const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
      assert.ok(typeof overflow === "number" && overflow <= 0, `no page-wide overflow at ${width}x${height}: ${String(overflow)} px`);
      await page.screenshot({ path: join(ARTIFACTS, `overview-${width}x${height}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  void it("keeps a real firing alert's row, long message included, whole inside the alerts card", async () => {
    type FiringAlert = { entity: string; message: string };
    let alerts: FiringAlert[] = [];
    const firing = await waitForValue(
      async () => {
        const body = (await (await fetch(`${base}/api/v1/alerts?state=firing`)).json()) as FiringAlert[] | { alerts: FiringAlert[] };
        alerts = Array.isArray(body) ? body : body.alerts;
        return alerts.find((alert) => alert.entity === "ratings.default");
      },
      "the ratings SLA alert firing",
      30_000,
      () => JSON.stringify(alerts),
    );
    for (const [width, height] of [[1280, 800], [1920, 1080]] as const) {
      await page.setViewportSize({ width, height });
      await page.reload();
      const row = page.locator("#alerts tr", { hasText: firing.message });
      await row.waitFor({ timeout: 10_000 });
      // Whole texts, wrapped rather than cut: every cell shows all it holds, and the table is no wider than its card.
      // Evaluated in the page (a string: the tests compile without the DOM's types).
      const overflow = await page.evaluate<string[]>(`(() => {
        const card = document.querySelector("#alerts");
        const right = card.getBoundingClientRect().right;
        const problems = card.scrollWidth > card.clientWidth ? ["the card scrolls " + (card.scrollWidth - card.clientWidth) + " px"] : [];
        for (const cell of document.querySelectorAll("#alerts td")) {
          if (cell.scrollWidth > cell.clientWidth || cell.getBoundingClientRect().right > right + 0.5) problems.push("cut or outside the card: " + cell.textContent);
        }
        return problems;
      })()`);
      assert.deepEqual(overflow, [], `at ${width}x${height}`);
      await page.locator("#alerts").screenshot({ path: join(ARTIFACTS, `overview-alerts-${width}x${height}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  void it("shows names with markup as text and never runs them", async () => {
    const ingested = await fetch(`${base}/api/v1/logs?format=istio&service=${encodeURIComponent(HOSTILE_SERVICE)}&namespace=default&instance=x-1`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: accessLogLine(HOSTILE_SERVICE),
    });
    assert.equal(ingested.status, 200, await ingested.text());
    await waitFor(async () => {
      const services = (await (await fetch(`${base}/api/v1/services`)).json()) as { name: string }[];
      return services.some((service) => service.name === HOSTILE_SERVICE);
    }, "the service with markup in its name in the API", 15_000);
    await page.reload();
    await page.locator("#services table").waitFor({ timeout: 10_000 });
    const hostile = page.locator("#services a.service-link", { hasText: HOSTILE_SERVICE });
    assert.equal(await hostile.textContent(), HOSTILE_SERVICE);
    assert.equal(await page.locator("#view img").count(), 0, "no element was made from the name");
    assert.equal(await page.evaluate(() => (globalThis as { __xss?: number }).__xss), undefined, "the onerror handler never ran");
  });

  void it("opens a service page with load, SLA and percentile charts, relations and instances", async () => {
    await page.locator("#services a.service-link", { hasText: "reviews.default" }).click();
    await page.locator('.service-page[data-service="reviews.default"]').waitFor({ timeout: 10_000 });
    assert.equal(new URL(page.url()).hash, "#/service/reviews.default");
    await page.locator("#charts .chart .uplot canvas").nth(2).waitFor({ timeout: 10_000 });
    assert.deepEqual(await page.locator("#charts figcaption").allTextContents(), ["Load (calls per minute)", "SLA (%)", "Latency (ms)"]);
    const latencyLegend = await page.locator('#charts .chart[data-chart="Latency"] .u-legend .u-series .u-label').allTextContents();
    assert.deepEqual(latencyLegend.slice(1), ["p50", "p95", "p99"]);
    const relations = await page.locator(".panel", { hasText: "Relations" }).textContent();
    assert.match(relations ?? "", /inbound from.*productpage\.default/s);
    assert.match(relations ?? "", /outbound to.*ratings\.default/s);
    assert.match((await page.locator(".panel", { hasText: "Instances" }).textContent()) ?? "", /reviews-v\d/);
    assert.deepEqual(await page.locator(".panel", { hasText: "Instances" }).locator("th").allTextContents(), ["instance", "cpm last minute", "cpm range avg", "SLA", "p95"]);
    await page.screenshot({ path: join(ARTIFACTS, "overview-service.png"), fullPage: true });

    await page.locator("#breadcrumb a", { hasText: "overview" }).click();
    await page.locator("#services table").waitFor({ timeout: 10_000 });
    assert.deepEqual(pageProblems, [], "no script errors, CSP violations or dialogs");
  });

  void it("opens the page of a service only its callers reported, from its topology node, and says whose figures they are", async () => {
    // productpage's sidecar calls a host outside the mesh: no proxy of httpbin.org reports anything.
    const at = new Date().toISOString();
    const outbound = `[${at}] "GET /status/200 HTTP/1.1" 200 - via_upstream - "-" 0 135 4 4 "-" "curl/8.5.0" "ext-1" "httpbin.org" "203.0.113.10:443" outbound|443||httpbin.org 10.44.1.23:37652 203.0.113.10:443 10.44.1.23:46520 - default`;
    const ingested = await fetch(`${base}/api/v1/logs?format=istio&service=productpage&namespace=default&instance=productpage-v1-x`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: `${outbound}\n`,
    });
    assert.deepEqual(await ingested.json(), { lines: 1, accepted: 1, rejected: 0, reasons: {} });
    await waitFor(async () => {
      const services = (await (await fetch(`${base}/api/v1/services`)).json()) as { name: string; measuredBy: string }[];
      return services.some((service) => service.name === "httpbin.org" && service.measuredBy === "callers");
    }, "httpbin.org listed as measured by its callers", 15_000);
    await page.goto(`${base}/`);
    const node = page.locator('svg.topology a:has(g.node[data-name="httpbin.org"])');
    await node.waitFor({ timeout: 10_000 });
    await node.click();
    await page.locator('.service-page[data-service="httpbin.org"]').waitFor({ timeout: 10_000 });
    assert.match((await page.locator(".service-page .measured-by-callers").textContent()) ?? "", /its figures are what its callers saw/);
    assert.match((await page.locator(".panel", { hasText: "Relations" }).textContent()) ?? "", /inbound from.*productpage\.default/s);
    await page.locator("#charts .chart .uplot canvas").nth(2).waitFor({ timeout: 10_000 });
    await page.locator("#breadcrumb a", { hasText: "overview" }).click();
    await page.locator("#services table").waitFor({ timeout: 10_000 });
    assert.deepEqual(pageProblems, [], "no script errors, CSP violations or dialogs");
  });

  void it("lays out cycles and diamonds by the longest call chain, in the page's own module", async () => {
    type Layers = (names: string[], edges: { source: string; target: string }[]) => Map<string, number>;
    const layersOf = async (names: string[], edges: [string, string][]): Promise<Record<string, number>> =>
      page.evaluate(
        async ({ moduleUrl, names, edges }) => {
          const { assignLayers } = (await import(moduleUrl)) as { assignLayers: Layers };
          return Object.fromEntries(assignLayers(names, edges.map(([source, target]) => ({ source, target }))));
        },
        { moduleUrl: `${base}/ui/topology-layout.js`, names, edges },
      );
    // a calls b and c, c calls b: b goes right of c (longest chain), not next to it.
    assert.deepEqual(await layersOf(["a", "b", "c"], [["a", "b"], ["a", "c"], ["c", "b"]]), { a: 0, b: 2, c: 1 });
    // A cycle entered from a root is cut at the edge back toward the root.
    assert.deepEqual(await layersOf(["root", "x", "y"], [["root", "x"], ["x", "y"], ["y", "x"]]), { root: 0, x: 1, y: 2 });
    // A cycle nobody enters still gets a layer for every node; self-calls and unknown targets are ignored.
    assert.deepEqual(await layersOf(["p", "q"], [["p", "q"], ["q", "p"], ["p", "p"], ["q", "ghost"]]), { p: 0, q: 1 });
  });
});
