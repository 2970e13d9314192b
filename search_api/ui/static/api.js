// One seam for talking to the JSON API: same-origin fetch with the session cookie, errors turned
// into ApiError with the server's stable code and message, and a 401 sending the browser to login.

export class ApiError extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
  }
}

export function loginUrl() {
  const next = window.location.pathname + window.location.search;
  return `/ui/login?next=${encodeURIComponent(next)}`;
}

/** Call the API; returns parsed JSON (or null for 204). Throws ApiError on failure. */
export async function api(path, { method = "GET", body, params } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === null || value === undefined || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  // The session cookie authenticates; X-Requested-With is what the API demands of
  // cookie-authenticated requests that change state (a cross-site form cannot send it).
  const headers = { Accept: "application/json", "X-Requested-With": "osintel-ui" };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const err = (data && (data.error || data.detail)) || {};
    if (response.status === 401 && path !== "/api/session") {
      window.location.assign(loginUrl());
    }
    throw new ApiError(
      response.status,
      err.code ?? `http_${response.status}`,
      err.message ?? (typeof err === "string" ? err : `request failed (${response.status})`),
      err,
    );
  }
  return data;
}

/** Human text for an error, including where a bad query is wrong. */
export function describeError(error) {
  if (error instanceof ApiError) {
    const where = error.extra && Number.isInteger(error.extra.position) ? ` (at character ${error.extra.position})` : "";
    return `${error.message}${where}`;
  }
  return `Could not reach the server: ${error.message}`;
}
