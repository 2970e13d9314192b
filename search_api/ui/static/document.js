// Document page: the captured text with entities, places and method evidence marked in place,
// built as DOM nodes from character offsets (crawled text is never parsed as HTML).
import { api, describeError } from "./api.js";
import { badge, clear, el, externalLink, fullDate, shortDate, showError } from "./dom.js";

/** "2BP" from a grading object or string. */
export function gradingCode(g) {
  if (!g) return "";
  if (typeof g === "string") return g;
  return `${g.source ?? ""}${g.intelligence ?? ""}${g.handling ?? ""}`;
}

/**
 * Spans to mark, in code-point offsets (Python's string offsets; JS strings are UTF-16, so the
 * text is handled as an array of code points). Invalid spans are dropped, not trusted.
 */
export function collectSpans(doc, chars) {
  const spans = [];
  const valid = (s, e) => Number.isInteger(s) && Number.isInteger(e) && s >= 0 && e > s && e <= chars.length;
  for (const ent of doc.entities ?? []) {
    if (valid(ent.start, ent.end)) {
      spans.push({ start: ent.start, end: ent.end, layer: "entity", kind: "entity", label: ent.label,
        title: `${ent.label}${ent.normalized ? ` · ${ent.normalized}` : ""}` });
    }
  }
  for (const loc of doc.locations ?? []) {
    // Every mention of the place (records made before mentions were listed have start/end only).
    const mentions = Array.isArray(loc.mentions) && loc.mentions.length ? loc.mentions : [loc];
    for (const m of mentions) {
      if (valid(m.start, m.end)) {
        spans.push({ start: m.start, end: m.end, layer: "entity", kind: "place", label: "PLACE",
          title: `${loc.name}${loc.country_code ? `, ${loc.country_code}` : ""}` });
      }
    }
  }
  const text = chars.join("");
  for (const method of doc.methods ?? []) {
    let { start, end } = method;
    if (!valid(start, end) && method.evidence) {
      // No offsets recorded: find the evidence sentence in the text.
      const at = text.indexOf(method.evidence);
      if (at >= 0) {
        start = Array.from(text.slice(0, at)).length;
        end = start + Array.from(method.evidence).length;
      }
    }
    if (valid(start, end)) {
      spans.push({ start, end, layer: "method", kind: "method", label: method.id, title: `${method.label} (${method.id})` });
    }
  }
  // Within the entity layer keep the first, longest span where spans overlap; on the same
  // span a geocoded place wins over the bare entity (it says more).
  const rank = { place: 0, entity: 1, method: 2 };
  spans.sort((a, b) => a.start - b.start || b.end - a.end || rank[a.kind] - rank[b.kind]);
  const kept = [];
  let entityEnd = -1;
  for (const span of spans) {
    if (span.layer === "entity") {
      if (span.start < entityEnd) continue;
      entityEnd = span.end;
    }
    kept.push(span);
  }
  return kept;
}

function cutPoints(spans, a, b) {
  const cuts = new Set([a, b]);
  for (const s of spans) {
    if (s.start > a && s.start < b) cuts.add(s.start);
    if (s.end > a && s.end < b) cuts.add(s.end);
  }
  return [...cuts].sort((x, y) => x - y);
}

/**
 * The text as a fragment of text nodes and marks. Entity and place marks stay whole (they are
 * what an analyst clicks and reads); method evidence, a sentence-level background, is laid inside
 * them and split where it crosses an entity's edge.
 */
export function markedText(text, spans) {
  const chars = Array.from(text ?? "");
  const entities = spans.filter((s) => s.layer === "entity");
  const methods = spans.filter((s) => s.layer === "method");
  const out = document.createDocumentFragment();
  const outer = cutPoints(entities, 0, chars.length);
  for (let i = 0; i + 1 < outer.length; i += 1) {
    const [a, b] = [outer[i], outer[i + 1]];
    const entity = entities.find((s) => s.start <= a && s.end >= b);
    const holder = entity
      ? el("mark", { class: `ent ent-${entity.kind}`, "data-label": entity.label, title: entity.title })
      : document.createDocumentFragment();
    const inner = cutPoints(methods, a, b);
    for (let j = 0; j + 1 < inner.length; j += 1) {
      const [c, d] = [inner[j], inner[j + 1]];
      let node = document.createTextNode(chars.slice(c, d).join(""));
      for (const method of methods.filter((s) => s.start <= c && s.end >= d)) {
        const mark = el("mark", { class: "method-evidence", "data-method": method.label, title: method.title });
        mark.append(node);
        node = mark;
      }
      holder.append(node);
    }
    out.append(holder);
  }
  return out;
}

function renderProvenance(doc) {
  const dl = clear(document.getElementById("doc-provenance"));
  const row = (term, value) => {
    if (value === null || value === undefined || value === "") return;
    dl.append(el("dt", {}, term), el("dd", {}, value instanceof Node ? value : String(value)));
  };
  const source = doc.source ?? {};
  row("Source", `${source.name || source.id || ""}${source.name && source.id ? ` (${source.id})` : ""}`);
  row("Source kind", [source.kind, source.platform].filter(Boolean).join(" / "));
  row("Grading", gradingCode(doc.grading));
  row("Source default grading", gradingCode(source.grading));
  row("URL", externalLink(doc.url));
  if (doc.canonical_url && doc.canonical_url !== doc.url) row("Canonical URL", externalLink(doc.canonical_url));
  row("Published", fullDate(doc.published_at));
  row("Collected", fullDate(doc.collected_at));
  const capture = doc.capture;
  if (capture) {
    row("Capture SHA-256", el("code", { class: "hash" }, capture.sha256 ?? ""));
    row("WARC file", capture.warc_file);
    row("WARC record", capture.record_id ? el("code", {}, capture.record_id) : null);
    row("HTTP status", capture.http_status);
    row("Content type", capture.content_type);
    row("Fetched URL", capture.fetched_url ? externalLink(capture.fetched_url) : null);
    row("Server IP", capture.ip_address);
  }
  row("Retention review", fullDate(doc.retention_review_at));
  if (doc.legal_hold) row("Legal hold", doc.legal_hold.reason ?? "yes");
  row("Document id", el("code", {}, doc.id));
}

function renderRelevance(doc) {
  const dl = clear(document.getElementById("doc-relevance"));
  dl.append(el("dt", {}, "score"), el("dd", {}, Number(doc.relevance ?? 0).toFixed(2)));
  // What the score is made of (methods, entities, watchlist hits ...), largest first.
  const parts = Object.entries(doc.relevance_explanation ?? {}).sort((a, b) => b[1] - a[1]);
  for (const [reason, weight] of parts) dl.append(el("dt", {}, reason), el("dd", {}, Number(weight).toFixed(2)));
  if (doc.duplicate_of) {
    dl.append(el("dt", {}, "duplicate of"),
      el("dd", {}, el("a", { href: `/ui/documents/${encodeURIComponent(doc.duplicate_of)}` }, doc.duplicate_of)));
  }
}

/** Crime types (Home Office offence groups), each with the sentence that shows it; text only. */
function renderCrimeTypes(doc) {
  const list = clear(document.getElementById("doc-crimetypes"));
  for (const c of doc.crime_types ?? []) {
    list.append(el("li", { "data-crimetype": c.id },
      el("strong", {}, c.label || c.id), " ",
      el("span", { class: "muted" }, `${c.id} · ${Math.round((c.confidence ?? 0) * 100)}% · ${c.matched_by ?? ""}`),
      el("blockquote", { class: "evidence-sentence" }, c.evidence ?? "")));
  }
  if (!list.children.length) list.append(el("li", { class: "muted" }, "none found"));
}

function renderLists(doc) {
  const methods = clear(document.getElementById("doc-methods"));
  for (const m of doc.methods ?? []) {
    methods.append(el("li", { "data-method": m.id },
      el("strong", {}, m.label || m.id), " ", el("span", { class: "muted" }, `${m.id} · ${m.category} · ${Math.round((m.confidence ?? 0) * 100)}% · ${m.matched_by ?? ""}`),
      el("blockquote", { class: "evidence-sentence" }, m.evidence ?? "")));
  }
  if (!methods.children.length) methods.append(el("li", { class: "muted" }, "none found"));
  const entities = clear(document.getElementById("doc-entities"));
  for (const e of doc.entities ?? []) {
    entities.append(el("li", { "data-label": e.label }, badge("label", e.label), " ", e.text,
      e.normalized && e.normalized !== e.text ? el("span", { class: "muted" }, ` → ${e.normalized}`) : null));
  }
  if (!entities.children.length) entities.append(el("li", { class: "muted" }, "none found"));
  const places = clear(document.getElementById("doc-places"));
  for (const p of doc.locations ?? []) {
    const where = [p.admin1, p.country_code].filter(Boolean).join(", ");
    const coords = p.lat !== null && p.lat !== undefined ? ` (${Number(p.lat).toFixed(2)}, ${Number(p.lon).toFixed(2)})` : "";
    places.append(el("li", {}, p.name, where ? `, ${where}` : "", coords));
  }
  if (!places.children.length) places.append(el("li", { class: "muted" }, "none found"));
}

/** The API's document view (provenance / assessments / retention) as one flat record. */
export function flatten(view) {
  const prov = view.provenance ?? {};
  const assess = view.assessments ?? {};
  return {
    ...view, ...assess,
    source: prov.source ?? view.source ?? {},
    grading: prov.grading ?? view.grading ?? null,
    capture: prov.capture ?? view.capture ?? null,
    capture_url: prov.capture_url ?? null,
    collected_at: prov.collected_at ?? view.collected_at ?? null,
    retention_review_at: view.retention?.review_at ?? view.retention_review_at ?? null,
    legal_hold: view.retention?.legal_hold ?? null,
  };
}

export async function start() {
  const article = document.getElementById("document");
  const docId = article.dataset.docId;
  try {
    const doc = flatten(await api(`/api/documents/${encodeURIComponent(docId)}`));
    document.getElementById("doc-title").textContent = doc.title?.trim() ? doc.title : "(no title)";
    document.title = `${doc.title?.trim() ? doc.title : "Document"} · osintel`;
    const meta = clear(document.getElementById("doc-meta"));
    meta.append(...[
      badge("relevance", `relevance ${Number(doc.relevance ?? 0).toFixed(2)}`),
      doc.grading ? badge("grading", gradingCode(doc.grading)) : null,
      badge("source", doc.source?.id ?? ""),
      doc.language ? badge("language", doc.language) : null,
      doc.published_at ? badge("date", shortDate(doc.published_at)) : null,
      doc.author || doc.author_handle ? el("span", { class: "author" }, `by ${doc.author || doc.author_handle}`) : null,
    ].filter(Boolean));
    const chars = Array.from(doc.text ?? "");
    const text = clear(document.getElementById("doc-text"));
    text.append(markedText(doc.text ?? "", collectSpans(doc, chars)));
    document.getElementById("legend").append(
      el("mark", { class: "ent ent-entity" }, "entity"), " ", el("mark", { class: "ent ent-place" }, "place"), " ",
      el("mark", { class: "method-evidence" }, "method evidence"));
    renderCrimeTypes(doc);
    renderLists(doc);
    renderRelevance(doc);
    renderProvenance(doc);
    if (doc.capture_url) {
      const link = document.getElementById("capture-link");
      // Built from the id, not taken from the response, so it can only point at our own API.
      link.href = `/api/documents/${encodeURIComponent(doc.id)}/capture`;
      link.setAttribute("download", "");
      link.hidden = false;
    }
  } catch (e) {
    showError(document.getElementById("error"), describeError(e));
  }
}
