// Map page: /api/map GeoJSON points on the bundled world outline (offline, no tile server),
// equirectangular projection in an SVG built with DOM APIs.
import { api, describeError } from "./api.js";
import { clear, el, showError, svg } from "./dom.js";

const WIDTH = 1000;
const HEIGHT = 500;

/** Equirectangular projection: lon -180..180 -> 0..WIDTH, lat 90..-90 -> 0..HEIGHT. */
export function project(lon, lat) {
  return [((lon + 180) / 360) * WIDTH, ((90 - lat) / 180) * HEIGHT];
}

let worldPromise = null;
function loadWorld() {
  worldPromise ??= fetch("/ui/static/world.json", { credentials: "same-origin" }).then((r) => {
    if (!r.ok) throw new Error(`world outline: HTTP ${r.status}`);
    return r.json();
  });
  return worldPromise;
}

function ringPath(ring) {
  return ring.map(([lon, lat], i) => {
    const [x, y] = project(lon, lat);
    return `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(1)}`;
  }).join("") + "Z";
}

function drawWorld(world) {
  const group = svg("g", { class: "countries" });
  for (const country of world.countries ?? []) {
    group.append(svg("path", { d: country.rings.map(ringPath).join(""), class: "country", "data-id": country.id },
      svg("title", {}, country.name)));
  }
  return group;
}

function graticule() {
  const group = svg("g", { class: "graticule" });
  for (let lon = -150; lon <= 150; lon += 30) {
    const [x] = project(lon, 0);
    group.append(svg("line", { x1: x, x2: x, y1: 0, y2: HEIGHT }));
  }
  for (let lat = -60; lat <= 60; lat += 30) {
    const [, y] = project(0, lat);
    group.append(svg("line", { x1: 0, x2: WIDTH, y1: y, y2: y }));
  }
  return group;
}

/** Point features from the API as {lon, lat, name, count, props}. */
export function points(geojson) {
  const out = [];
  for (const feature of geojson?.features ?? []) {
    const g = feature.geometry;
    if (!g || g.type !== "Point" || !Array.isArray(g.coordinates)) continue;
    const [lon, lat] = g.coordinates.map(Number);
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lat) > 90 || Math.abs(lon) > 180) continue;
    const props = feature.properties ?? {};
    out.push({ lon, lat, name: String(props.name ?? props.place ?? ""), count: Number(props.mentions ?? props.count ?? 1) || 1, props });
  }
  return out;
}

function showDetail(point) {
  const detail = clear(document.getElementById("map-detail"));
  const p = point.props;
  detail.append(el("strong", {}, point.name || "(unnamed place)"),
    p.country_code ? ` (${p.country_code})` : "", ` · ${point.count} mention${point.count === 1 ? "" : "s"}`);
  if (Number.isFinite(p.documents)) detail.append(` in ${p.documents} document${p.documents === 1 ? "" : "s"}`);
  const ids = Array.isArray(p.doc_ids) ? p.doc_ids : [];
  if (ids.length) {
    const list = el("ul", { class: "map-docs" });
    for (const id of ids.slice(0, 20)) {
      if (typeof id === "string") list.append(el("li", {}, el("a", { href: `/ui/documents/${encodeURIComponent(id)}` }, id)));
    }
    detail.append(list);
  }
  const q = `place:"${point.name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  detail.append(" ", el("a", { href: `/ui/?${new URLSearchParams({ q })}` }, "search this place"));
}

async function run() {
  const q = document.getElementById("q").value;
  const error = document.getElementById("error");
  showError(error, "");
  const url = new URL(window.location.href);
  url.search = new URLSearchParams({ q }).toString();
  window.history.replaceState(null, "", url);
  const holder = clear(document.getElementById("map"));
  try {
    const [world, geojson] = await Promise.all([loadWorld(), api("/api/map", { params: { q } })]);
    const map = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "world", role: "img", "aria-label": "map of places" },
      svg("rect", { x: 0, y: 0, width: WIDTH, height: HEIGHT, class: "sea" }), graticule(), drawWorld(world));
    const found = points(geojson);
    const max = Math.max(1, ...found.map((p) => p.count));
    const dots = svg("g", { class: "places" });
    for (const point of found.sort((a, b) => b.count - a.count)) {
      const [x, y] = project(point.lon, point.lat);
      const dot = svg("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: (3 + 9 * Math.sqrt(point.count / max)).toFixed(1),
        class: "place", "data-name": point.name, tabindex: 0 },
      svg("title", {}, `${point.name}: ${point.count}`));
      dot.addEventListener("click", () => showDetail(point));
      dot.addEventListener("keydown", (event) => { if (event.key === "Enter") showDetail(point); });
      dots.append(dot);
    }
    map.append(dots);
    holder.append(map);
    const mentions = found.reduce((n, p) => n + p.count, 0);
    document.getElementById("summary").textContent =
      `${found.length} place${found.length === 1 ? "" : "s"}, ${mentions} mention${mentions === 1 ? "" : "s"}`;
  } catch (e) {
    showError(error, describeError(e));
  }
}

export async function start() {
  document.getElementById("q").value = new URLSearchParams(window.location.search).get("q") ?? "";
  document.getElementById("map-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });
  await run();
}
