// Entities page: the most frequent entities of each type for a query, and which occur together.
import { api, describeError } from "./api.js";
import { badge, clear, el, quoteValue, showError } from "./dom.js";

let entityFields = {};

function clause(label, value) {
  return `${entityFields[label] ?? "entity"}:${quoteValue(value)}`;
}

function searchLink(q, clauses, text) {
  const extra = clauses.join(" AND ");
  const query = q.trim() ? `(${q}) AND ${extra}` : extra;
  return el("a", { href: `/ui/?${new URLSearchParams({ q: query })}` }, text);
}

async function run() {
  const q = document.getElementById("q").value;
  const error = document.getElementById("error");
  showError(error, "");
  const url = new URL(window.location.href);
  url.search = new URLSearchParams({ q }).toString();
  window.history.replaceState(null, "", url);
  const columns = clear(document.getElementById("entity-labels"));
  const pairs = clear(document.querySelector("#pairs tbody"));
  try {
    const data = await api("/api/entities", { params: { q, size: 10, pairs: 25 } });
    for (const [label, values] of Object.entries(data.labels ?? {})) {
      if (!values.length) continue;
      const list = el("ol");
      for (const { value, count } of values) {
        list.append(el("li", { "data-value": value }, searchLink(q, [clause(label, value)], value), " ",
          el("span", { class: "count" }, String(count))));
      }
      columns.append(el("section", { class: "entity-column", "data-label": label }, el("h3", {}, label), list));
    }
    for (const pair of data.pairs ?? []) {
      const cell = (ref) => el("td", {}, badge("label", ref.label), " ", ref.value);
      pairs.append(el("tr", {}, cell(pair.a), cell(pair.b),
        el("td", {}, searchLink(q, [clause(pair.a.label, pair.a.value), clause(pair.b.label, pair.b.value)], String(pair.count)))));
    }
    document.getElementById("summary").textContent =
      `${data.total} matching document${data.total === 1 ? "" : "s"}; pairs from the top ${data.hits_examined}`;
  } catch (e) {
    showError(error, describeError(e));
  }
}

export async function start() {
  const node = document.getElementById("ui-config");
  if (node) entityFields = JSON.parse(node.textContent).entity_fields ?? {};
  document.getElementById("q").value = new URLSearchParams(window.location.search).get("q") ?? "";
  document.getElementById("entities-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  await run();
}
