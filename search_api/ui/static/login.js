// Login: exchange an API key for a session cookie, then go where the analyst was heading.
import { api, describeError } from "./api.js";
import { showError } from "./dom.js";

/** Only same-site UI paths are followed after login (no open redirect via ?next=). */
export function safeNext(value) {
  if (typeof value !== "string" || !value.startsWith("/ui/") || value.startsWith("//")) return "/ui/";
  try {
    const url = new URL(value, window.location.origin);
    return url.origin === window.location.origin ? url.pathname + url.search : "/ui/";
  } catch {
    return "/ui/";
  }
}

export async function start() {
  const form = document.getElementById("login-form");
  const input = document.getElementById("api-key");
  const error = document.getElementById("login-error");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError(error, "");
    try {
      await api("/api/session", { method: "POST", body: { api_key: input.value.trim() } });
      input.value = "";
      const next = new URLSearchParams(window.location.search).get("next");
      window.location.assign(safeNext(next));
    } catch (e) {
      showError(error, e.status === 401 ? "That API key is unknown or revoked." : describeError(e));
    }
  });
  button.disabled = false;
}
