// Charts as inline SVG built with DOM APIs (no library, no innerHTML). Labels are text nodes.
import { svg } from "./dom.js";

export const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

function niceMax(value) {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

/** Vertical bars for [{x: label, y: count}]. */
export function barChart(points, { width = 640, height = 120, label = "" } = {}) {
  const pad = { left: 30, right: 4, top: 6, bottom: 16 };
  const max = niceMax(Math.max(0, ...points.map((p) => p.y)));
  const w = (width - pad.left - pad.right) / Math.max(1, points.length);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "bar-chart", role: "img", "aria-label": label },
    svg("title", {}, label));
  const plotH = height - pad.top - pad.bottom;
  chart.append(svg("text", { x: pad.left - 4, y: pad.top + 8, class: "axis", "text-anchor": "end" }, String(max)));
  chart.append(svg("text", { x: pad.left - 4, y: height - pad.bottom, class: "axis", "text-anchor": "end" }, "0"));
  points.forEach((p, i) => {
    const h = (p.y / max) * plotH;
    const bar = svg("rect", { x: pad.left + i * w + 1, y: pad.top + plotH - h, width: Math.max(1, w - 2), height: h, class: "bar" },
      svg("title", {}, `${p.x}: ${p.y}`));
    chart.append(bar);
  });
  if (points.length) {
    chart.append(svg("text", { x: pad.left, y: height - 2, class: "axis" }, String(points[0].x).slice(0, 10)));
    chart.append(svg("text", { x: width - pad.right, y: height - 2, class: "axis", "text-anchor": "end" },
      String(points[points.length - 1].x).slice(0, 10)));
  }
  return chart;
}

/** One line per series: series = [{name, points: [{x, y}]}], all sharing the same x buckets. */
export function lineChart(buckets, series, { width = 800, height = 320, label = "" } = {}) {
  const pad = { left: 40, right: 10, top: 10, bottom: 28 };
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.y))));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (i) => pad.left + (buckets.length <= 1 ? plotW / 2 : (i * plotW) / (buckets.length - 1));
  const y = (v) => pad.top + plotH - (v / max) * plotH;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "line-chart", role: "img", "aria-label": label },
    svg("title", {}, label));
  for (const tick of [0, max / 2, max]) {
    chart.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: "grid" }));
    chart.append(svg("text", { x: pad.left - 4, y: y(tick) + 4, class: "axis", "text-anchor": "end" }, String(Math.round(tick))));
  }
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((b, i) => {
    if (i % every === 0 || i === buckets.length - 1) {
      // The end labels anchor inwards so they are not clipped by the chart's edge.
      const anchor = i === 0 ? "start" : i === buckets.length - 1 ? "end" : "middle";
      chart.append(svg("text", { x: x(i), y: height - 8, class: "axis", "text-anchor": anchor }, String(b).slice(0, 10)));
    }
  });
  series.forEach((s, k) => {
    const colour = PALETTE[k % PALETTE.length];
    const byX = new Map(s.points.map((p) => [p.x, p.y]));
    const coords = buckets.map((b, i) => `${x(i).toFixed(1)},${y(byX.get(b) ?? 0).toFixed(1)}`);
    const group = svg("g", { class: "series", "data-series": s.name });
    group.append(svg("polyline", { points: coords.join(" "), fill: "none", stroke: colour, "stroke-width": 2 }));
    buckets.forEach((b, i) => {
      const v = byX.get(b) ?? 0;
      group.append(svg("circle", { cx: x(i), cy: y(v), r: 3, fill: colour }, svg("title", {}, `${s.name} ${b}: ${v}`)));
    });
    chart.append(group);
  });
  return chart;
}
