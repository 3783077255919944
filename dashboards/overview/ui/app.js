/* global document, window, setTimeout, clearTimeout */
// Entry module: picks the view from the URL hash, refreshes it on a timer, and swaps the new content in
// only once it is fully built, so a refresh never flashes an empty page.
import { h, formatTime } from "./dom.js";
import { overviewView } from "./overview-view.js";
import { serviceView } from "./service-view.js";

const REFRESH_MS = 15_000;
/** The API's default window (docs/api.md); picked from the range menu otherwise. */
const RANGES = [
  { label: "last 15 minutes", ms: 15 * 60_000 },
  { label: "last 30 minutes", ms: 30 * 60_000 },
  { label: "last hour", ms: 60 * 60_000 },
  { label: "last 6 hours", ms: 6 * 60 * 60_000 },
  { label: "last 24 hours", ms: 24 * 60 * 60_000 },
];
const DEFAULT_RANGE_MS = 30 * 60_000;

const view = /** @type {HTMLElement} */ (document.getElementById("view"));
const status = /** @type {HTMLElement} */ (document.getElementById("status"));
const breadcrumb = /** @type {HTMLElement} */ (document.getElementById("breadcrumb"));

/** @typedef {{ kind: "overview" } | { kind: "service", service: string }} Route */

/** @returns {Route} */
function currentRoute() {
  const match = /^#\/service\/(.+)$/.exec(window.location.hash);
  if (!match?.[1]) return { kind: "overview" };
  try {
    return { kind: "service", service: decodeURIComponent(match[1]) };
  } catch {
    return { kind: "overview" };
  }
}

/** The page's one piece of state: what is shown, and the timer and generation that keep refreshes in order. */
const state = {
  rangeMs: DEFAULT_RANGE_MS,
  /** Bumped by every render; a slower, older render that finishes late is dropped. */
  generation: 0,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  timer: undefined,
  /** @type {() => void} */
  destroyShown: () => undefined,
};

function rangeMenu() {
  const select = h("select", { id: "range", "aria-label": "time range" }, ...RANGES.map((range) => h("option", { value: range.ms, selected: range.ms === state.rangeMs }, range.label)));
  select.addEventListener("change", () => {
    state.rangeMs = Number(select.value);
    void render();
  });
  return select;
}

/** @param {Route} route */
function showBreadcrumb(route) {
  breadcrumb.replaceChildren(route.kind === "service" ? h("span", {}, h("a", { href: "#/" }, "overview"), " / ", route.service) : h("span", {}, "overview"), rangeMenu());
}

async function render() {
  clearTimeout(state.timer);
  const generation = ++state.generation;
  const route = currentRoute();
  const toMs = Date.now();
  const range = { fromMs: toMs - state.rangeMs, toMs };
  status.textContent = "updating…";
  try {
    const shown = route.kind === "service" ? await serviceView(route.service, range, view.clientWidth) : await overviewView(range);
    if (generation !== state.generation) return shown.destroy();
    state.destroyShown();
    state.destroyShown = shown.destroy;
    showBreadcrumb(route);
    view.replaceChildren(shown.element);
    status.textContent = `updated ${formatTime(toMs)}`;
    status.className = "status";
  } catch (error) {
    if (generation !== state.generation) return;
    // Keep what was shown: one failed refresh should not blank the page, only say so.
    status.textContent = `update failed: ${error instanceof Error ? error.message : String(error)}`;
    status.className = "status failed";
  }
  scheduleRefresh();
}

function scheduleRefresh() {
  clearTimeout(state.timer);
  // A hidden tab does not poll; it refreshes when it is looked at again.
  if (!document.hidden) state.timer = setTimeout(() => void render(), REFRESH_MS);
}

window.addEventListener("hashchange", () => void render());
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) void render();
});
void render();
