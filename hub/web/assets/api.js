// Calls to the hub's API: JSON in and out, the session cookie sent along, and problem+json errors
// turned into ApiError with the hub's own words (which name the field at fault).
export class ApiError extends Error {
  constructor(status, detail, field, retryAfter) {
    super(detail);
    this.status = status;
    this.field = field || "";
    this.retryAfter = retryAfter || "";
  }

  static async from(res) {
    let detail = "";
    let field = "";
    try {
      const p = await res.json();
      detail = p.detail || p.title || "";
      field = p.field || "";
    } catch {
      detail = res.statusText;
    }
    return new ApiError(res.status, detail, field, res.headers.get("Retry-After"));
  }
}

export async function api(method, path, body) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "");
  }
  if (!res.ok) throw await ApiError.from(res);
  if (res.status === 204) return {};
  const type = res.headers.get("Content-Type") || "";
  return type.includes("json") ? res.json() : {};
}

// What went wrong, and what to do about it, in one sentence or two.
export function explain(err) {
  if (!(err instanceof ApiError)) return `Something went wrong in this page: ${err && err.message ? err.message : err}. Reload the page and try again.`;
  const d = err.message ? `${err.message}. ` : "";
  switch (err.status) {
    case 0: return "Cannot reach the hub. Check the network connection, then try again.";
    case 400: return `${d}Correct it and try again.`;
    case 401: return "You are not signed in (or your session ended). Sign in again.";
    case 403: return `${d}You are not allowed to do this; if you should be, ask an administrator.`;
    case 404: return `${d}It may have been deleted or not shared with you. Reload the page.`;
    case 409: return `${d}Change it and try again.`;
    case 413: return `${d}It is too large.`;
    case 429: return `Too many attempts. Wait ${err.retryAfter || "a minute"} seconds and try again.`;
    case 507: return `${d}The hub's disk is full: tell your technician.`;
    default:
      if (err.status >= 500) return "The hub failed to do this. Try again; if it keeps failing, tell your technician (the cause is in the hub's log).";
      return `${d}(HTTP ${err.status})`;
  }
}
