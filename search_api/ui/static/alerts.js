// Alerts page: the caller's watchlists (a supervisor's: everyone's), a form to create one, delete,
// and the alert history per watchlist or overall. Rule names, queries and alerted documents'
// titles are user or crawled text: they only enter the page through el() as text nodes.
import { api, describeError } from "./api.js";
import { badge, clear, el, fullDate, showError } from "./dom.js";

const HISTORY_LIMIT = 200;
const TARGETS = {
  file: ["file name", "letters, digits, . _ - only; written as JSON lines under <data_dir>/alerts/", "watchlist.jsonl"],
  webhook: ["URL", "http:// or https:// URL; the JSON body is signed (HMAC-SHA256) with the server's key", "https://receiver.example/hook"],
  email: ["address", "plain text and HTML mail through the configured SMTP server", "analyst@unit.example"],
};

let config = { see_all: false };
let rules = [];
// Which history is shown: null for every visible rule, else one rule's id.
let historyRule = null;

function readConfig() {
  const node = document.getElementById("ui-config");
  // A JSON data block rendered by the server (not executed: type="application/json").
  if (node) config = JSON.parse(node.textContent);
}

/** "a, b ,c" -> ["a", "b", "c"]. */
function splitList(value) {
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

function optionalInt(value) {
  const trimmed = value.trim();
  return trimmed === "" ? null : Number(trimmed);
}

/** The request body the API's AlertIn model takes, from the form. */
export function formBody(form) {
  const get = (name) => form.elements.namedItem(name).value;
  const relevance = get("min_relevance").trim();
  const delivery = { sink: get("sink"), target: get("target").trim(), digest_minutes: optionalInt(get("digest_minutes")) ?? 0 };
  const rate = optionalInt(get("rate_limit_per_hour"));
  if (rate !== null) delivery.rate_limit_per_hour = rate;
  return {
    name: get("name").trim(),
    kind: "watchlist",
    query: get("query"),
    scope: {
      sources: splitList(get("sources")),
      languages: splitList(get("languages")),
      min_relevance: relevance === "" ? 0 : Number(relevance),
    },
    delivery,
  };
}

function scopeText(scope) {
  const parts = [];
  if (scope?.sources?.length) parts.push(`sources: ${scope.sources.join(", ")}`);
  if (scope?.languages?.length) parts.push(`languages: ${scope.languages.join(", ")}`);
  if (scope?.min_relevance > 0) parts.push(`relevance ≥ ${scope.min_relevance}`);
  return parts.join("; ");
}

function deliveryText(delivery) {
  const extras = [];
  if (delivery.digest_minutes > 0) extras.push(`digest every ${delivery.digest_minutes} min`);
  if (delivery.rate_limit_per_hour) extras.push(`≤ ${delivery.rate_limit_per_hour}/hour`);
  return [el("span", { class: "badge" }, delivery.sink), " ", el("span", { class: "target" }, delivery.target),
    extras.length ? el("div", { class: "muted" }, extras.join(", ")) : null];
}

function deleteButton(rule) {
  // Two clicks, no confirm() dialog: the first arms the button, the second deletes.
  const button = el("button", { type: "button", class: "delete", "aria-label": `delete ${rule.name}` }, "Delete");
  button.addEventListener("click", async () => {
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = "Confirm delete";
      return;
    }
    button.disabled = true;
    try {
      await api(`/api/alerts/${encodeURIComponent(rule.id)}`, { method: "DELETE" });
      if (historyRule === rule.id) historyRule = null;
      await loadRules();
      await loadHistory();
    } catch (e) {
      showError(document.getElementById("rules-error"), describeError(e));
      button.disabled = false;
    }
  });
  button.addEventListener("blur", () => {
    button.dataset.armed = "false";
    button.textContent = "Delete";
  });
  return button;
}

function renderRule(rule) {
  const history = el("button", { type: "button", class: "show-history" }, "History");
  history.addEventListener("click", () => {
    historyRule = rule.id;
    loadHistory();
  });
  const scope = scopeText(rule.scope);
  const what = rule.kind === "emerging"
    ? el("td", {}, el("span", { class: "badge" }, "emerging methods"), rule.methods ? ` ${rule.methods}` : "")
    : el("td", {}, el("code", { class: "query" }, rule.query), scope ? el("div", { class: "muted scope" }, scope) : null);
  return el("tr", { class: "rule", "data-id": rule.id },
    el("td", { class: "rule-name" }, rule.name, rule.enabled ? null : el("span", { class: "muted" }, " (disabled)")),
    what,
    el("td", { class: "delivery" }, deliveryText(rule.delivery)),
    config.see_all ? el("td", { class: "owner" }, rule.owner_name ?? "") : null,
    el("td", { class: "actions" }, history, " ", deleteButton(rule)),
  );
}

async function loadRules() {
  const body = clear(document.querySelector("#rules tbody"));
  const error = document.getElementById("rules-error");
  showError(error, "");
  try {
    rules = await api("/api/alerts");
  } catch (e) {
    rules = [];
    showError(error, describeError(e));
  }
  for (const rule of rules) body.append(renderRule(rule));
  document.getElementById("rules-summary").textContent = rules.length
    ? `${rules.length} watchlist${rules.length === 1 ? "" : "s"}`
    : "No watchlists yet: create one with the form.";
}

function ruleName(event) {
  return event.detail?.rule?.name ?? rules.find((r) => r.id === event.rule_id)?.name ?? event.rule_id;
}

function renderEvent(event) {
  const doc = event.detail?.document;
  let what;
  if (event.kind === "watchlist" && doc) {
    const title = doc.title && String(doc.title).trim() ? doc.title : doc.url ?? event.doc_id;
    what = el("a", { href: `/ui/documents/${encodeURIComponent(doc.id ?? event.doc_id)}`, class: "doc-link" }, title);
  } else {
    what = el("span", { class: "signal", title: event.detail?.explanation ?? null }, event.detail?.title ?? event.doc_id);
  }
  return el("tr", { class: "event", "data-status": event.status, "data-rule": event.rule_id },
    el("td", { class: "when" }, fullDate(event.created_at)),
    el("td", { class: "rule-name" }, ruleName(event)),
    el("td", {}, what),
    el("td", {}, doc?.source ?? ""),
    el("td", {}, badge(`status-${event.status}`, event.status, event.status === "duplicate"
      ? "a copy of a story already alerted: not delivered again" : null)),
  );
}

async function loadHistory() {
  const body = clear(document.querySelector("#history tbody"));
  const error = document.getElementById("history-error");
  const scope = document.getElementById("history-scope");
  showError(error, "");
  const rule = historyRule && rules.find((r) => r.id === historyRule);
  if (historyRule && !rule) historyRule = null;
  document.getElementById("history-all").hidden = !historyRule;
  const path = historyRule ? `/api/alerts/${encodeURIComponent(historyRule)}/history` : "/api/alerts/history";
  try {
    const events = await api(path, { params: { limit: HISTORY_LIMIT } });
    for (const event of events) body.append(renderEvent(event));
    const of = rule ? `of “${rule.name}”` : config.see_all ? "of all watchlists" : "of my watchlists";
    scope.textContent = events.length
      ? `${events.length} alert${events.length === 1 ? "" : "s"} ${of}, newest first`
      : `No alerts ${of} yet.`;
  } catch (e) {
    scope.textContent = "";
    showError(error, describeError(e));
  }
}

function showTargetHelp() {
  const [label, hint, placeholder] = TARGETS[document.getElementById("a-sink").value] ?? TARGETS.file;
  document.getElementById("a-target-label").textContent = label;
  document.getElementById("a-target-hint").textContent = hint;
  document.getElementById("a-target").setAttribute("placeholder", placeholder);
}

/** Put the caret where the server says the query is wrong ("... at position 13"). */
function markQueryError(message) {
  const query = document.getElementById("a-query");
  const match = /bad watchlist query: .* at position (\d+)/.exec(message);
  query.setAttribute("aria-invalid", match ? "true" : "false");
  if (!match) return;
  const at = Math.min(Number(match[1]), query.value.length);
  query.focus();
  query.setSelectionRange(at, Math.min(at + 1, query.value.length));
}

async function create(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = document.getElementById("form-error");
  const status = document.getElementById("form-status");
  const submit = form.querySelector("button[type=submit]");
  showError(error, "");
  status.textContent = "";
  submit.disabled = true;
  try {
    const rule = await api("/api/alerts", { method: "POST", body: formBody(form) });
    // Scope and delivery stay filled: the next watchlist usually goes to the same place.
    form.elements.namedItem("name").value = "";
    form.elements.namedItem("query").value = "";
    document.getElementById("a-query").setAttribute("aria-invalid", "false");
    status.textContent = `Created “${rule.name}”.`;
    await loadRules();
  } catch (e) {
    // Validation messages name the request body's fields ("body.delivery: Value error, ..."):
    // the form's own words are enough.
    const message = describeError(e).replace(/(^|; )body\./g, "$1").replace(/Value error, /g, "");
    showError(error, message);
    markQueryError(message);
  } finally {
    submit.disabled = false;
  }
}

export async function start() {
  readConfig();
  document.getElementById("alert-form").addEventListener("submit", create);
  document.getElementById("a-sink").addEventListener("change", showTargetHelp);
  showTargetHelp();
  document.getElementById("history-all").addEventListener("click", () => {
    historyRule = null;
    loadHistory();
  });
  document.getElementById("history-refresh").addEventListener("click", () => loadHistory());
  const toggle = document.getElementById("help-toggle");
  toggle.addEventListener("click", () => {
    const help = document.getElementById("field-help");
    help.hidden = !help.hidden;
    toggle.setAttribute("aria-expanded", String(!help.hidden));
  });
  await loadRules();
  await loadHistory();
}
