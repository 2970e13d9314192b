// Entry point for every page: wires the log-out button, then loads the page's own module.
import { api } from "./api.js";

const PAGES = {
  login: "./login.js",
  search: "./search.js",
  document: "./document.js",
  entities: "./entities.js",
  trends: "./trends.js",
  map: "./map.js",
  alerts: "./alerts.js",
};

async function logout() {
  try {
    await api("/api/session", { method: "DELETE" });
  } finally {
    window.location.assign("/ui/login");
  }
}

async function main() {
  const page = document.body.dataset.page;
  const logoutButton = document.getElementById("logout");
  if (logoutButton) logoutButton.addEventListener("click", logout);
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === page) link.setAttribute("aria-current", "page");
  }
  const module = PAGES[page];
  if (module) {
    const { start } = await import(module);
    await start();
  }
  document.body.dataset.ready = "true";
}

main().catch((error) => {
  const status = document.getElementById("status");
  if (status) status.textContent = `Page failed to start: ${error.message}`;
  document.body.dataset.ready = "error";
});
