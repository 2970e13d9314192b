// Search page: query box, facet sidebar, highlighted results, cursor paging. Copies of one story
// (near-duplicates) are collapsed into one hit with an "N copies" link that lists them.
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

// Most copies one "N copies" link lists in place; the rest are a search away (cluster:<id>).
const MAX_COPIES_SHOWN = 50;
// Sort names the API used to have: old bookmarks keep working.
const SORT_ALIASES = { relevance: "best_match" };

let config = { entity_fields: {} };
let state = { q: "", sort: "best_match", all: false, cursor: null };

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

/** What a hit is called: its title, else the first words of its text (the API's display_title). */
function hitTitle(hit) {
  if (hit.display_title && hit.display_title.trim()) return hit.display_title;
  return hit.title && hit.title.trim() ? hit.title : hit.url;
}

/** The query that lists the copies of one story among the current query's matches. */
export function copiesQuery(q, clusterId) {
  const clause = `cluster:${quoteValue(clusterId)}`;
  return q.trim() ? `(${q.trim()}) AND ${clause}` : clause;
}

function renderCopy(hit) {
  return el("li", { class: "copy", "data-id": hit.id },
    el("a", { href: `/ui/documents/${encodeURIComponent(hit.id)}`, class: "hit-title" }, hitTitle(hit)),
    el("div", { class: "badges" },
      hit.source ? badge("source", hit.source, "source") : null,
      hit.published_at ? badge("date", shortDate(hit.published_at), "published") : null,
      hit.grading ? badge("grading", hit.grading, "3x5x2 grading") : null),
    el("div", { class: "hit-url" }, externalLink(hit.url)));
}

function copiesLabel(n) {
  return `${n} copies`;
}

/** The "N copies" toggle of a collapsed hit: lists the story's matching copies under it. */
function copiesToggle(hit, query, sort) {
  const button = el("button", { type: "button", class: "linklike copies-toggle", "aria-expanded": "false",
    title: "near-duplicate copies of this story (other sources, reposts)" }, copiesLabel(hit.copies));
  let list = null;
  button.addEventListener("click", async () => {
    if (list) {
      list.remove();
      list = null;
      button.textContent = copiesLabel(hit.copies);
      button.setAttribute("aria-expanded", "false");
      return;
    }
    button.disabled = true;
    try {
      const q = copiesQuery(query, hit.cluster_id);
      const data = await api("/api/search", {
        params: { q, sort, collapse: "false", limit: Math.min(hit.copies, MAX_COPIES_SHOWN), facet: "source", facet_size: 1 },
      });
      list = el("ol", { class: "copies" }, (data.hits ?? []).map(renderCopy));
      if (data.total > (data.hits ?? []).length) {
        const more = new URLSearchParams({ q, sort, all: "1" });
        list.append(el("li", { class: "copy muted" },
          el("a", { href: `/ui/?${more}` }, `all ${data.total} copies`)));
      }
      button.after(list);
      button.textContent = "hide copies";
      button.setAttribute("aria-expanded", "true");
    } catch (e) {
      button.after(list = el("p", { class: "error" }, describeError(e)));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

function renderHit(hit) {
  const docLink = el("a", { href: `/ui/documents/${encodeURIComponent(hit.id)}`, class: "hit-title" }, hitTitle(hit));
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
  const copies = hit.copies > 1 ? copiesToggle(hit, state.q, state.sort) : null;
  return el("li", { class: "hit", "data-id": hit.id }, docLink, badges, snippet, methods,
    el("div", { class: "hit-url" }, externalLink(hit.url)), copies);
}

function summaryText(data, shown) {
  const total = data.total ?? 0;
  let text = `${total} match${total === 1 ? "" : "es"}`;
  const stories = data.collapsed ? data.stories : null;
  if (stories !== null && stories !== undefined && stories !== total) {
    text += `, ${data.stories_exact ? "" : "about "}${stories} stor${stories === 1 ? "y" : "ies"}`;
  }
  const listed = stories ?? total;
  return text + (shown < listed ? `, showing ${shown}` : "");
}

async function run({ more = false } = {}) {
  const qInput = document.getElementById("q");
  const sortSelect = document.getElementById("sort");
  const allCopies = document.getElementById("all-copies");
  const results = document.getElementById("results");
  const moreButton = document.getElementById("more");
  const error = document.getElementById("error");
  if (!more) {
    state = { q: qInput.value, sort: sortSelect.value, all: allCopies.checked, cursor: null };
    const url = new URL(window.location.href);
    const params = { q: state.q, sort: state.sort };
    if (state.all) params.all = "1";
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
        q: state.q, sort: state.sort, collapse: state.all ? "false" : "true", limit: pageSize,
        cursor: more ? state.cursor : null,
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
    document.getElementById("summary").textContent = summaryText(data, results.children.length);
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
  const sort = SORT_ALIASES[params.get("sort")] ?? params.get("sort");
  if (sort && [...document.getElementById("sort").options].some((o) => o.value === sort)) {
    document.getElementById("sort").value = sort;
  }
  document.getElementById("all-copies").checked = params.get("all") === "1";
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  document.getElementById("sort").addEventListener("change", () => run());
  document.getElementById("all-copies").addEventListener("change", () => run());
  document.getElementById("more").addEventListener("click", () => run({ more: true }));
  const toggle = document.getElementById("help-toggle");
  toggle.addEventListener("click", () => {
    const help = document.getElementById("field-help");
    help.hidden = !help.hidden;
    toggle.setAttribute("aria-expanded", String(!help.hidden));
  });
  await run();
}
