// Time-series charts of the service page, drawn by uPlot (served from node_modules, see overview-routes.ts).
import uPlot from "uplot";
import { h } from "./dom.js";

const CHART_HEIGHT = 180;
const PALETTE = ["#2f7ed8", "#e8a33d", "#d64541", "#2fa84f"];

/**
 * @typedef {{ label: string, points: import("./api.js").SeriesPoint[] }} ChartSeries
 * @typedef {{ title: string, unit: string, series: ChartSeries[], min?: number, max?: number }} ChartSpec
 */

/**
 * One uPlot chart in a titled box. Returns the box and a destroy function: uPlot keeps listeners on the
 * window, so a chart left behind by a refresh would leak them.
 * @param {ChartSpec} spec
 * @param {number} width
 * @returns {{ element: HTMLElement, destroy: () => void }}
 */
export function timeChart(spec, width) {
  const box = h("figure", { class: "chart", "data-chart": spec.title }, h("figcaption", {}, `${spec.title} (${spec.unit})`));
  const times = (spec.series[0]?.points ?? []).map((point) => point.t / 1000);
  /** @type {uPlot.AlignedData} */
  const data = [times, ...spec.series.map((series) => series.points.map((point) => point.v))];
  /** @type {uPlot.Options} */
  const options = {
    width,
    height: CHART_HEIGHT,
    series: [{}, ...spec.series.map((series, index) => ({ label: series.label, stroke: PALETTE[index % PALETTE.length], width: 2, spanGaps: false }))],
    scales: spec.min === undefined && spec.max === undefined ? {} : { y: { range: [spec.min ?? null, spec.max ?? null] } },
    axes: [{}, { size: 56 }],
    legend: { live: true },
  };
  const chart = new uPlot(options, data, box);
  return { element: box, destroy: () => chart.destroy() };
}
