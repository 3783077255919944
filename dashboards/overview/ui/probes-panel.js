// Probe cases with their latest runs (GET /api/v1/probes and /api/v1/probes/:name/results).
import { fetchProbeResults } from "./api.js";
import { formatMs, formatTime, h, panel, table } from "./dom.js";

/** Results are fetched per case: beyond this many cases the page lists the rest without their runs. */
const MAX_CASES_WITH_RESULTS = 20;
const RECENT_RUNS = 20;

/** @param {import("./api.js").ProbeResult[]} results */
function recentSuccess(results) {
  if (results.length === 0) return "–";
  const successes = results.filter((result) => result.status === "success").length;
  return `${successes}/${results.length}`;
}

/** @param {import("./api.js").ProbeResult | undefined} last */
function lastRunCells(last) {
  if (!last) return [h("span", { class: "muted" }, "no runs yet"), "", "", ""];
  return [h("span", { class: `badge ${last.status === "success" ? "healthy" : "critical"}` }, last.status), formatTime(last.startedMs), formatMs(last.durationMs), last.message];
}

/** @param {import("./api.js").ProbeCase[]} probes */
export async function probesPanel(probes) {
  const sorted = [...probes].sort((a, b) => a.name.localeCompare(b.name));
  const withResults = await Promise.all(
    sorted.map(async (probe, index) => ({
      probe,
      results: index < MAX_CASES_WITH_RESULTS ? await fetchProbeResults(probe.name, RECENT_RUNS).catch(() => []) : [],
    })),
  );
  const rows = withResults.map(({ probe, results }) => [probe.name, probe.kind, probe.targets.join(", "), recentSuccess(results), ...lastRunCells(results[0])]);
  const section = panel(`Probes (${probes.length})`, table(["case", "kind", "targets", "recent successes", "last run", "at", "took", "message"], rows, "No probe cases defined (see docs/probes.md)."));
  section.id = "probes";
  return section;
}
