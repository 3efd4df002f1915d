// Small fetch wrapper for the Overlap API (DESIGN §3). Errors are RFC 9457 problems.

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
  // Worth retrying later: the gateway's rate limit or a server-side hiccup.
  get retryable() {
    return this.status === 429 || this.status >= 500;
  }
}

/** A network failure (offline, connection refused) is a TypeError from fetch. */
export function isOffline(err) {
  return err instanceof TypeError || (err instanceof ApiError && err.retryable);
}

/** body: JSON to send; or raw (a Blob or string) sent as contentType. */
export async function api(method, path, { body, raw, contentType, headers = {}, signal } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, signal };
  if (raw !== undefined) {
    init.headers["Content-Type"] = contentType;
    init.body = raw;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(`/api${path}`, init);
  const etag = res.headers.get("ETag");
  if (res.status === 204 || res.status === 304) return { status: res.status, data: null, etag };
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return { status: res.status, data, etag };
}

export const enc = encodeURIComponent;
