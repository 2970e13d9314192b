// DOM helpers. Crawled content is hostile: it only ever enters the page as text nodes
// (textContent / createTextNode) or through the allow-listed snippet builder below. This file
// and the rest of the UI never assign innerHTML/outerHTML or call insertAdjacentHTML.

const SVG_NS = "http://www.w3.org/2000/svg";

/** Build an element: el("a", {class: "x", href: safeHref(u)}, "text", childNode, ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/** Build an SVG element (same calling convention as el). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    // Event handlers are attached with addEventListener, never as attributes.
    if (name.toLowerCase().startsWith("on")) throw new Error(`refusing attribute ${name}`);
    node.setAttribute(name, value === true ? "" : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Remove every child of node. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** The URL as a string when it is plain http(s), else null (no javascript:, data:, ...). */
export function safeHref(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, window.location.origin);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** A link to an external page that cannot reach back into ours, or plain text if unsafe. */
export function externalLink(url, text) {
  const href = safeHref(url);
  if (!href) return el("span", { class: "url" }, text ?? String(url ?? ""));
  return el("a", { href, class: "url", rel: "noopener noreferrer nofollow", target: "_blank" }, text ?? href);
}

/**
 * Snippet HTML from the API is escaped text with <b> marks around matched terms. Rather than
 * trusting that with innerHTML, parse it in an inert document (DOMParser runs no scripts and
 * loads nothing) and copy over only text and <b>: anything else becomes its text.
 */
export function snippetNodes(html) {
  const parsed = new DOMParser().parseFromString(`<body>${html ?? ""}`, "text/html");
  const out = document.createDocumentFragment();
  const copy = (source, target) => {
    for (const child of source.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        target.append(document.createTextNode(child.data));
      } else if (child.nodeType === Node.ELEMENT_NODE && child.tagName === "B") {
        const mark = document.createElement("mark");
        copy(child, mark);
        target.append(mark);
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        target.append(document.createTextNode(child.textContent ?? ""));
      }
    }
  };
  copy(parsed.body, out);
  return out;
}

/** Show or hide an error paragraph. */
export function showError(node, message) {
  if (!node) return;
  node.textContent = message ?? "";
  node.hidden = !message;
}

/** Short human date (UTC) from an ISO string, or "" when absent. */
export function shortDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 10);
}

/** "2025-11-20 09:00:00 UTC" from an ISO string, or "" when absent. */
export function fullDate(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A small labelled badge. */
export function badge(kind, text, title) {
  return el("span", { class: `badge badge-${kind}`, title: title ?? null }, text);
}

/** Quote a value for the query language: "..." with backslash-escaped quotes and backslashes. */
export function quoteValue(value) {
  return `"${String(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
