// Trends page: the top values of a dimension (methods, places, entities ...) per time bucket,
// drawn as an inline SVG line chart.
import { api, describeError } from "./api.js";
import { PALETTE, lineChart } from "./chart.js";
import { clear, el, quoteValue, showError, svg } from "./dom.js";

function selectIfKnown(select, value) {
  if (value && [...select.options].some((o) => o.value === value)) select.value = value;
}

async function run() {
  const q = document.getElementById("q").value;
  const by = document.getElementById("by").value;
  const interval = document.getElementById("interval").value;
  const error = document.getElementById("error");
  showError(error, "");
  const url = new URL(window.location.href);
  url.search = new URLSearchParams({ q, by, interval }).toString();
  window.history.replaceState(null, "", url);
  const chart = clear(document.getElementById("chart"));
  const legend = clear(document.getElementById("legend"));
  try {
    const data = await api("/api/trends", { params: { q, by, interval, top: 8 } });
    const buckets = (data.overall ?? []).map((b) => b.start);
    const series = (data.series ?? []).map((s) => ({
      name: s.value, total: s.total, points: (s.buckets ?? []).map((b) => ({ x: b.start, y: b.count })),
    }));
    document.getElementById("summary").textContent =
      `${data.total} matching document${data.total === 1 ? "" : "s"}; top ${series.length} ${by} values per ${interval}`;
    if (!buckets.length || !series.length) {
      chart.append(el("p", { class: "muted" }, "Nothing dated to chart for this query."));
      return;
    }
    chart.append(lineChart(buckets, series, { label: `${by} per ${interval}` }));
    series.forEach((s, k) => {
      const swatch = svg("svg", { class: "swatch", viewBox: "0 0 10 10", "aria-hidden": "true" },
        svg("rect", { width: 10, height: 10, fill: PALETTE[k % PALETTE.length] }));
      const clause = `${by.startsWith("entity:") ? "entity" : by}:${quoteValue(s.name)}`;
      const link = el("a", { href: `/ui/?${new URLSearchParams({ q: q.trim() ? `(${q}) AND ${clause}` : clause })}` }, s.name);
      legend.append(el("span", { class: "legend-item", "data-series": s.name }, swatch, link, el("span", { class: "count" }, String(s.total))));
    });
  } catch (e) {
    showError(error, describeError(e));
  }
}

export async function start() {
  const params = new URLSearchParams(window.location.search);
  document.getElementById("q").value = params.get("q") ?? "";
  selectIfKnown(document.getElementById("by"), params.get("by"));
  selectIfKnown(document.getElementById("interval"), params.get("interval"));
  document.getElementById("trends-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  for (const id of ["by", "interval"]) document.getElementById(id).addEventListener("change", () => run());
  await run();
}
