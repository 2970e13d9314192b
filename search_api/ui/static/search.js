// Search page: query box, facet sidebar, highlighted results, cursor paging.
import { api, describeError } from "./api.js";
import { badge, clear, el, externalLink, quoteValue, shortDate, showError, snippetNodes } from "./dom.js";
import { barChart } from "./chart.js";

const DEFAULT_PAGE_SIZE = 20;
let pageSize = DEFAULT_PAGE_SIZE;
// Facets the sidebar asks for: the usual fields plus the entity labels analysts pivot on most.
const FACETS = ["source", "language", "method", "category", "crimetype", "country", "label", "grading",
  "entity:PERSON", "entity:ORG", "entity:PHONE", "entity:VEHICLE_PLATE", "entity:EMAIL"];
const FACET_TITLES = {
  source: "Source", language: "Language", method: "Method", category: "Category", crimetype: "Crime type",
  country: "Country", label: "Entity type", grading: "Grading",
};

let config = { entity_fields: {} };
let state = { q: "", sort: "relevance", cursor: null };

function readConfig() {
  const node = document.getElementById("ui-config");
  // A JSON data block rendered by the server (not executed: type="application/json").
  if (node) config = JSON.parse(node.textContent);
}

/** The query-language clause that filters on one facet value. */
export function facetClause(facet, value) {
  if (facet.startsWith("entity:")) {
    const label = facet.slice("entity:".length);
    return `${config.entity_fields[label] ?? "entity"}:${quoteValue(value)}`;
  }
  return `${facet}:${quoteValue(value)}`;
}

function addClause(clause) {
  const q = state.q.trim();
  if (q.includes(clause)) return q;
  return q ? `(${q}) AND ${clause}` : clause;
}

/** Facets as [[name, [[value, count], ...]], ...] whatever shape the API used. */
function facetEntries(facets) {
  if (!facets) return [];
  return Object.entries(facets).map(([name, values]) => {
    const pairs = Array.isArray(values)
      ? values.map((v) => (Array.isArray(v) ? v : [v.value, v.count]))
      : Object.entries(values);
    return [name, pairs];
  });
}

function histogramPoints(histogram) {
  if (!Array.isArray(histogram)) return [];
  return histogram.map((b) => (Array.isArray(b) ? { x: b[0], y: b[1] } : { x: b.start ?? b.date ?? b.key, y: b.count }));
}

function renderFacets(facets) {
  const aside = clear(document.getElementById("facets"));
  for (const [name, values] of facetEntries(facets)) {
    if (!values.length) continue;
    const title = FACET_TITLES[name] ?? (name.startsWith("entity:") ? name.slice(7) : name);
    const list = el("ul");
    for (const [value, count] of values) {
      const button = el("button", { type: "button", class: "facet-value", "data-facet": name, "data-value": value },
        el("span", { class: "facet-label" }, value), el("span", { class: "count" }, String(count)));
      button.addEventListener("click", () => {
        document.getElementById("q").value = addClause(facetClause(name, value));
        run();
      });
      list.append(el("li", {}, button));
    }
    aside.append(el("section", { class: "facet", "data-facet": name }, el("h3", {}, title), list));
  }
}

function renderHit(hit) {
  const title = hit.title && hit.title.trim() ? hit.title : hit.url;
  const docLink = el("a", { href: `/ui/documents/${encodeURIComponent(hit.id)}`, class: "hit-title" }, title);
  const badges = el("div", { class: "badges" },
    badge("relevance", `relevance ${Number(hit.relevance ?? 0).toFixed(2)}`, "relevance score"),
    hit.grading ? badge("grading", hit.grading, "3x5x2 grading") : null,
    hit.source ? badge("source", hit.source, "source") : null,
    hit.language ? badge("language", hit.language, "language") : null,
    hit.published_at ? badge("date", shortDate(hit.published_at), "published") : null,
  );
  const methods = el("div", { class: "chips" },
    (hit.methods ?? []).map((m) => el("span", { class: "chip method" }, typeof m === "string" ? m : m.id)),
    (hit.crime_types ?? []).map((c) => el("span", { class: "chip crimetype" }, typeof c === "string" ? c : c.id)));
  const snippet = el("p", { class: "snippet" }, snippetNodes(hit.snippet));
  return el("li", { class: "hit", "data-id": hit.id }, docLink, badges, snippet, methods,
    el("div", { class: "hit-url" }, externalLink(hit.url)));
}

async function run({ more = false } = {}) {
  const qInput = document.getElementById("q");
  const sortSelect = document.getElementById("sort");
  const results = document.getElementById("results");
  const moreButton = document.getElementById("more");
  const error = document.getElementById("error");
  if (!more) {
    state = { q: qInput.value, sort: sortSelect.value, cursor: null };
    const url = new URL(window.location.href);
    const params = { q: state.q, sort: state.sort };
    if (pageSize !== DEFAULT_PAGE_SIZE) params.limit = String(pageSize);
    url.search = new URLSearchParams(params).toString();
    window.history.replaceState(null, "", url);
  }
  showError(error, "");
  moreButton.disabled = true;
  document.body.dataset.loading = "true";
  try {
    const data = await api("/api/search", {
      params: {
        q: state.q, sort: state.sort, limit: pageSize, cursor: more ? state.cursor : null,
        histogram: more ? null : "month", facet: more ? null : FACETS, facet_size: 10,
      },
    });
    if (!more) {
      clear(results);
      renderFacets(data.facets);
      const points = histogramPoints(data.histogram);
      const histo = clear(document.getElementById("histogram"));
      if (points.length > 1) histo.append(barChart(points, { width: 640, height: 90, label: "matches per month" }));
    }
    for (const hit of data.hits ?? []) results.append(renderHit(hit));
    state.cursor = data.next_cursor ?? null;
    moreButton.hidden = !state.cursor;
    const shown = results.children.length;
    document.getElementById("summary").textContent =
      `${data.total} match${data.total === 1 ? "" : "es"}` + (shown < data.total ? `, showing ${shown}` : "");
  } catch (e) {
    if (!more) {
      clear(results);
      clear(document.getElementById("facets"));
      document.getElementById("summary").textContent = "";
    }
    moreButton.hidden = true;
    showError(error, describeError(e));
  } finally {
    moreButton.disabled = false;
    document.body.dataset.loading = "false";
  }
}

export async function start() {
  readConfig();
  const params = new URLSearchParams(window.location.search);
  document.getElementById("q").value = params.get("q") ?? "";
  const limit = Number.parseInt(params.get("limit") ?? "", 10);
  if (limit >= 1 && limit <= 100) pageSize = limit;
  const sort = params.get("sort");
  if (sort && [...document.getElementById("sort").options].some((o) => o.value === sort)) {
    document.getElementById("sort").value = sort;
  }
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  document.getElementById("sort").addEventListener("change", () => run());
  document.getElementById("more").addEventListener("click", () => run({ more: true }));
  const toggle = document.getElementById("help-toggle");
  toggle.addEventListener("click", () => {
    const help = document.getElementById("field-help");
    help.hidden = !help.hidden;
    toggle.setAttribute("aria-expanded", String(!help.hidden));
  });
  await run();
}
